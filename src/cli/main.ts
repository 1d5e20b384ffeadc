import { statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BuildError } from "../diagnostics/build-error.js";
import { suggest } from "../diagnostics/suggest.js";
import type { CliIo, Command, ParsedArgs } from "./command.js";
import { COMMANDS, findCommand } from "./registry.js";
import { exitCodeFor, renderError } from "./render-error.js";
import { VERSION } from "./version.js";

/**
 * Runs tsbuild with `argv` (without node and script) and returns the exit
 * status. The only entry point that touches the process is `run.ts`.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    io.out(await globalHelp());
    return first === undefined ? 2 : 0;
  }
  if (first === "-v" || first === "--version" || first === "version") {
    io.out(`tsbuild ${VERSION}\n`);
    return 0;
  }
  // `tsbuild -t name .` and `tsbuild .`: Docker's `docker build` shorthand.
  const shorthand = !findCommand(first) && (first.startsWith("-") || isDirectory(resolve(io.cwd, first)));
  const entry = shorthand ? findCommand("build") : findCommand(first);
  const commandArgs = shorthand ? argv : rest;
  try {
    if (!entry) {
      const hint = suggest(first, COMMANDS.map((c) => c.name));
      throw new BuildError("CLI_USAGE", `unknown command "${first}"`, {
        hint: hint ? `did you mean "tsbuild ${hint}"?` : "run `tsbuild --help` for the list of commands",
      });
    }
    const command = await entry.load();
    if (commandArgs.includes("-h") || commandArgs.includes("--help")) {
      io.out(commandHelp(command));
      return 0;
    }
    return await command.run(parseCommandArgs(command, commandArgs), io);
  } catch (err) {
    io.err(renderError(err));
    return exitCodeFor(err);
  }
}

/** Parses a command's argv strictly: unknown options are usage errors naming the option. */
function parseCommandArgs(command: Command, args: readonly string[]): ParsedArgs {
  try {
    const parsed = parseArgs({ args: [...args], options: command.options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, "") : String(err);
    throw new BuildError("CLI_USAGE", `tsbuild ${command.name}: ${message}`, {
      hint: `usage: ${command.usage}`,
    });
  }
}

async function globalHelp(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "Usage: tsbuild COMMAND [OPTIONS]",
    "",
    "A daemonless Dockerfile build engine.",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `tsbuild COMMAND --help` for a command's options.",
    "",
  ].join("\n");
}

/** The `--help` text of one command, listing every option with its description. */
export function commandHelp(command: Command): string {
  const rows = Object.entries(command.options).map(([name, opt]) => {
    const short = opt.short ? `-${opt.short}, ` : "    ";
    const arg = opt.type === "string" ? ` ${name === "file" ? "PATH" : "VALUE"}` : "";
    return [`  ${short}--${name}${arg}`, command.help[name] ?? ""] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return [
    `Usage: ${command.usage}`,
    "",
    command.summary,
    "",
    "Options:",
    ...rows.map(([l, h]) => `${l.padEnd(width)}  ${h}`),
    "",
  ].join("\n");
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
