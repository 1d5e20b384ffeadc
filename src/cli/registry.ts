import type { Command } from "./command.js";
import { checkCommand } from "./commands/check.js";
import { loginCommand } from "./commands/login.js";
import { logoutCommand } from "./commands/logout.js";
import { parseCommand } from "./commands/parse.js";
import { pullCommand } from "./commands/pull.js";
import { pushCommand } from "./commands/push.js";

/**
 * Every subcommand, in the order `tsbuild --help` lists them. A new command
 * is one file under `commands/` plus one line here.
 */
export const COMMANDS: readonly Command[] = [
  parseCommand,
  checkCommand,
  pullCommand,
  pushCommand,
  loginCommand,
  logoutCommand,
];

/** Looks a subcommand up by name. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
