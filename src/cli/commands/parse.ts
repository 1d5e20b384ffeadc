import { dumpJson, dumpSexp, dumpText } from "../../syntax/dump.js";
import { parseDockerfile } from "../../syntax/parse.js";
import type { Command } from "../command.js";
import { readDockerfile } from "../dockerfile-input.js";
import { renderDiagnostics } from "../render-diagnostics.js";

/**
 * `tsbuild parse`: the pure parse, like BuildKit's parser. Prints the
 * syntax tree and fails only on syntax errors; nothing is expanded or
 * checked and the context need not exist.
 */
export const parseCommand: Command = {
  name: "parse",
  summary: "Parse a Dockerfile and print its syntax tree",
  usage: "tsbuild parse [-f Dockerfile] [--json | --sexp] [PATH]",
  options: {
    file: { type: "string", short: "f" },
    json: { type: "boolean" },
    sexp: { type: "boolean" },
  },
  help: {
    file: "Dockerfile to read (default PATH/Dockerfile; - reads standard input)",
    json: "Print the tree as JSON (keyword, flags, args, form, heredocs, ranges)",
    sexp: "Print BuildKit's s-expression dump (the format of its parser test results)",
  },
  async run(args, io) {
    const { source } = await readDockerfile(io, args.positionals[0], args.values["file"] as string | undefined);
    const { ast, diagnostics } = parseDockerfile(source);
    const errors = diagnostics.filter((d) => d.severity === "error");
    if (errors.length > 0) {
      io.err(renderDiagnostics(source, diagnostics));
      return 1;
    }
    if (args.values["json"]) io.out(JSON.stringify(dumpJson(ast), null, 2) + "\n");
    else if (args.values["sexp"]) io.out(dumpSexp(ast));
    else io.out(dumpText(ast));
    return 0;
  },
};
