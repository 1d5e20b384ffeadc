import { posix } from "node:path";
import type { ContainerConfig } from "../oci/types.js";
import type { CommandLine, Instruction } from "../instructions/types.js";
import { exposedPorts } from "./expose.js";

export { DEFAULT_PATH } from "../instructions/scope.js";

/** The shell used for shell-form instructions when the image sets none. */
export const DEFAULT_SHELL: readonly string[] = ["/bin/sh", "-c"];

/** A deep copy of a container config, so stages never share mutable state. */
export function cloneConfig(c: ContainerConfig): ContainerConfig {
  return structuredClone(c);
}

/** Env lines as a map (last one wins), keeping order. */
export function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of env ?? []) {
    const eq = line.indexOf("=");
    m.set(eq < 0 ? line : line.slice(0, eq), eq < 0 ? "" : line.slice(eq + 1));
  }
  return m;
}

/** Resolves a WORKDIR against the previous one, as Docker does (`path.Join` semantics, absolute result). */
export function resolveWorkdir(previous: string | undefined, path: string): string {
  const base = previous && previous !== "" ? previous : "/";
  return posix.resolve(base, path);
}

/** The argv a shell- or exec-form command stands for, given the stage's SHELL. */
export function commandArgv(command: CommandLine, shell: readonly string[] | undefined): string[] {
  return command.form === "exec" ? [...command.args] : [...(shell ?? DEFAULT_SHELL), command.script];
}

/**
 * Applies an instruction's effect on the image config (everything but the
 * filesystem) in place, as Docker's dispatchers do. Instructions must be
 * resolved (expanded) already. `state.cmdFromBase` tracks whether CMD still
 * comes from the base image: a new ENTRYPOINT then clears it, as Docker does.
 */
export function applyToConfig(config: ContainerConfig, inst: Instruction, state: { cmdFromBase: boolean }): void {
  switch (inst.kind) {
    case "env": {
      const env = envMap(config.Env);
      for (const p of inst.pairs) env.set(p.key, p.value);
      config.Env = [...env].map(([k, v]) => `${k}=${v}`);
      return;
    }
    case "label":
      config.Labels = { ...(config.Labels ?? {}) };
      for (const p of inst.pairs) config.Labels[p.key] = p.value;
      return;
    case "cmd":
      config.Cmd = commandArgv(inst.command, config.Shell);
      // BuildKit's dispatchCmd sets it for either form (ENTRYPOINT does not); later stages inherit it.
      config.ArgsEscaped = true;
      state.cmdFromBase = false;
      return;
    case "entrypoint":
      config.Entrypoint = commandArgv(inst.command, config.Shell);
      if (inst.command.form === "exec" && inst.command.args.length === 0) config.Entrypoint = null;
      // Docker: a new ENTRYPOINT drops the CMD inherited from the base image.
      if (state.cmdFromBase) config.Cmd = null;
      return;
    case "expose":
      config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
      for (const p of exposedPorts(inst.ports, inst.range)) config.ExposedPorts[p] = {};
      return;
    case "volume":
      config.Volumes = { ...(config.Volumes ?? {}) };
      for (const v of inst.paths) config.Volumes[v] = {};
      return;
    case "user":
      config.User = inst.user;
      return;
    case "workdir":
      config.WorkingDir = resolveWorkdir(config.WorkingDir, inst.path);
      return;
    case "stopsignal":
      config.StopSignal = inst.signal;
      return;
    case "healthcheck":
      config.Healthcheck =
        inst.test[0] === "NONE"
          ? { Test: ["NONE"] }
          : {
              Test: [...inst.test],
              ...(inst.interval ? { Interval: inst.interval } : {}),
              ...(inst.timeout ? { Timeout: inst.timeout } : {}),
              ...(inst.startPeriod ? { StartPeriod: inst.startPeriod } : {}),
              ...(inst.startInterval ? { StartInterval: inst.startInterval } : {}),
              ...(inst.retries ? { Retries: inst.retries } : {}),
            };
      return;
    case "shell":
      config.Shell = [...inst.shell];
      return;
    case "onbuild":
      config.OnBuild = [...(config.OnBuild ?? []), inst.expression];
      return;
    case "maintainer":
    case "arg":
    case "run":
    case "copy":
    case "add":
    case "from":
      return;
    default: {
      const never: never = inst;
      throw new Error(`unhandled instruction ${(never as Instruction).kind}`);
    }
  }
}
