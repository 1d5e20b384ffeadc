import { checkDockerfile } from "../../check/check.js";
import { IgnoreMatcher, loadDockerignore } from "../../context/dockerignore.js";
import { parsePlatform } from "../../instructions/platform.js";
import type { Command } from "../command.js";
import { parseBuildArgs, readDockerfile, stringList } from "../dockerfile-input.js";
import { renderDiagnostics } from "../render-diagnostics.js";

/**
 * `tsbuild check`: the whole frontend (parse, typed instructions, stages,
 * expansion, ARG scoping, target) plus BuildKit's build checks. Prints every
 * error and warning; exits 1 when there is an error.
 */
export const checkCommand: Command = {
  name: "check",
  summary: "Check a Dockerfile: syntax, instructions, stages, variables and build checks",
  usage: "tsbuild check [-f Dockerfile] [--build-arg K=V]... [--target T] [--platform P] [PATH]",
  options: {
    file: { type: "string", short: "f" },
    "build-arg": { type: "string", multiple: true },
    target: { type: "string" },
    platform: { type: "string" },
  },
  help: {
    file: "Dockerfile to read (default PATH/Dockerfile; - reads standard input)",
    "build-arg": "Set a build argument (K=V, or K to take it from the environment); repeatable",
    target: "Stage to check the build of (default: the last stage)",
    platform: "Target platform for TARGETPLATFORM and friends (default: this machine's)",
  },
  async run(args, io) {
    const location = await readDockerfile(io, args.positionals[0], args.values["file"] as string | undefined);
    const ignore = await loadDockerignore(location.contextDir, location.dockerfilePath);
    const matcher = ignore.patterns.length > 0 ? new IgnoreMatcher(ignore.patterns, ignore.file ? { file: ignore.file } : {}) : undefined;
    const platform = args.values["platform"] as string | undefined;
    const target = args.values["target"] as string | undefined;
    const result = checkDockerfile(location.source, {
      buildArgs: parseBuildArgs(stringList(args.values["build-arg"]), io.env),
      ...(target !== undefined ? { target } : {}),
      ...(platform !== undefined ? { platform: parsePlatform(platform) } : {}),
      ...(matcher ? { ignored: (p: string) => matcher.matches(p) } : {}),
    });
    const text = renderDiagnostics(location.source, result.diagnostics);
    const failed = result.diagnostics.some((d) => d.severity === "error");
    if (text) io.err(text);
    else io.out(`${location.source.path}: no problems found\n`);
    return failed ? 1 : 0;
  },
};
