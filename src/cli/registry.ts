import type { Command } from "./command.js";

/**
 * Every subcommand, in the order `tsbuild --help` lists them. A new command
 * is one file under `commands/` plus one line here.
 */
export const COMMANDS: readonly Command[] = [];

/** Looks a subcommand up by name. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
