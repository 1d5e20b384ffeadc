import type { Command } from "./command.js";

/** A subcommand by name; its module (and everything it imports) loads only when the command runs. */
export interface CommandEntry {
  /** The subcommand word. */
  readonly name: string;
  /** Loads the command's module. */
  load(): Promise<Command>;
}

/**
 * Every subcommand, in the order `tsbuild --help` lists them. A new command
 * is one file under `commands/` plus one line here. Modules are imported on
 * demand: loading every command (undici for the registry commands, the
 * whole build engine, ora...) cost more than a no-op build itself.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: "build", load: async () => (await import("./commands/build.js")).buildCommand },
  { name: "plan", load: async () => (await import("./commands/build.js")).planCommand },
  { name: "parse", load: async () => (await import("./commands/parse.js")).parseCommand },
  { name: "check", load: async () => (await import("./commands/check.js")).checkCommand },
  { name: "pull", load: async () => (await import("./commands/pull.js")).pullCommand },
  { name: "push", load: async () => (await import("./commands/push.js")).pushCommand },
  { name: "login", load: async () => (await import("./commands/login.js")).loginCommand },
  { name: "logout", load: async () => (await import("./commands/logout.js")).logoutCommand },
  { name: "images", load: async () => (await import("./commands/images.js")).imagesCommand },
  { name: "tag", load: async () => (await import("./commands/tag.js")).tagCommand },
  { name: "rmi", load: async () => (await import("./commands/rmi.js")).rmiCommand },
  { name: "inspect", load: async () => (await import("./commands/inspect.js")).inspectCommand },
  { name: "save", load: async () => (await import("./commands/save.js")).saveCommand },
  { name: "load", load: async () => (await import("./commands/load.js")).loadCommand },
  { name: "prune", load: async () => (await import("./commands/prune.js")).pruneCommand },
];

/** Looks a subcommand up by name. */
export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
