import type { Command } from "./command.js";
import { buildCommand, planCommand } from "./commands/build.js";
import { checkCommand } from "./commands/check.js";
import { imagesCommand } from "./commands/images.js";
import { inspectCommand } from "./commands/inspect.js";
import { loadCommand } from "./commands/load.js";
import { loginCommand } from "./commands/login.js";
import { logoutCommand } from "./commands/logout.js";
import { parseCommand } from "./commands/parse.js";
import { pullCommand } from "./commands/pull.js";
import { pushCommand } from "./commands/push.js";
import { rmiCommand } from "./commands/rmi.js";
import { saveCommand } from "./commands/save.js";
import { tagCommand } from "./commands/tag.js";

/**
 * Every subcommand, in the order `tsbuild --help` lists them. A new command
 * is one file under `commands/` plus one line here.
 */
export const COMMANDS: readonly Command[] = [
  buildCommand,
  planCommand,
  parseCommand,
  checkCommand,
  pullCommand,
  pushCommand,
  loginCommand,
  logoutCommand,
  imagesCommand,
  tagCommand,
  rmiCommand,
  inspectCommand,
  saveCommand,
  loadCommand,
];

/** Looks a subcommand up by name. */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
