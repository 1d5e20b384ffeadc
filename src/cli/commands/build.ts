import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { build, type BuildResult } from "../../build/build.js";
import { FrontendError } from "../../check/frontend-error.js";
import { BuildError } from "../../diagnostics/build-error.js";
import type { OutputSpec } from "../../export/outputs.js";
import { parsePlatform, type PlatformSpec } from "../../instructions/platform.js";
import type { BuildReporter } from "../../progress/events.js";
import type { LocalStore } from "../../store/store.js";
import type { CliIo, Command, ParsedArgs } from "../command.js";
import { parseBuildArgs, readDockerfile, stringList, type DockerfileLocation } from "../dockerfile-input.js";
import { JsonReporter, PlainReporter } from "../progress/plain-reporter.js";
import { renderDiagnostics } from "../render-diagnostics.js";
import { renderError } from "../render-error.js";

// The registry client (undici), file outputs, pushes and the live terminal
// display (ora) load only when a build uses them: a no-op build needs none.

const PROGRESS_MODES = ["auto", "tty", "plain", "quiet", "rawjson"] as const;

/** The options `build` and `plan` share (Docker's names). */
export const BUILD_OPTIONS = {
  tag: { type: "string", short: "t", multiple: true },
  file: { type: "string", short: "f" },
  "build-arg": { type: "string", multiple: true },
  target: { type: "string" },
  "no-cache": { type: "boolean" },
  "no-cache-filter": { type: "string", multiple: true },
  pull: { type: "boolean" },
  platform: { type: "string" },
  label: { type: "string", multiple: true },
  network: { type: "string" },
  progress: { type: "string" },
  push: { type: "boolean" },
  output: { type: "string", short: "o", multiple: true },
  iidfile: { type: "string" },
  "metadata-file": { type: "string" },
  root: { type: "string" },
  runtime: { type: "string" },
  "insecure-registry": { type: "string", multiple: true },
  "dry-run": { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  secret: { type: "string", multiple: true },
  ssh: { type: "string", multiple: true },
} as const;

/** Help for {@link BUILD_OPTIONS}. */
export const BUILD_HELP: Readonly<Record<string, string>> = {
  tag: "Name the image NAME[:TAG] (repeatable)",
  file: "Dockerfile (default PATH/Dockerfile; - reads standard input)",
  "build-arg": "Set a build argument K=V, or K to take it from the environment (repeatable)",
  target: "Build this stage (default: the last)",
  "no-cache": "Run every step, reusing nothing from the cache",
  "no-cache-filter": "Run every step of this stage (repeatable)",
  pull: "Re-resolve base images against their registries",
  platform: "Target platform (only this machine's for now)",
  label: "Add a label K=V to the image (repeatable)",
  network: "Default network of RUN steps: default (host), none or host",
  progress: "auto, tty, plain, quiet or rawjson (default auto: tty on a terminal, plain otherwise)",
  push: "Push every -t name to its registry after building",
  output: "type=image (default), registry, oci|docker|tar,dest=FILE, local,dest=DIR; or DIR (repeatable)",
  iidfile: "Write the image ID (config digest) to this file",
  "metadata-file": "Write build metadata (containerimage.digest, containerimage.config.digest, image.name) as JSON",
  root: "Local store directory (default $TSBUILD_ROOT, else $XDG_DATA_HOME/tsbuild)",
  runtime: "OCI runtime binary for RUN steps (default runc)",
  "insecure-registry": "Talk plain HTTP to this registry (repeatable; also TSBUILD_INSECURE_REGISTRIES)",
  "dry-run": "Print the plan with each step's cache key and whether it is cached; build nothing",
  quiet: "Print only the image ID",
  secret: "Secret for RUN --mount=type=secret: id=ID[,src=FILE | ,env=VAR] (repeatable; id alone: $ID if set, else the file ID)",
  ssh: "SSH agent for RUN --mount=type=ssh: default ($SSH_AUTH_SOCK), ID, or ID=SOCKET (repeatable; key files not yet)",
};

/** `tsbuild build [OPTIONS] PATH`, also reached as `tsbuild [OPTIONS] PATH`. */
export const buildCommand: Command = {
  name: "build",
  summary: "Build an image from a Dockerfile",
  usage: "tsbuild build [OPTIONS] PATH   (or: tsbuild [OPTIONS] PATH)",
  options: BUILD_OPTIONS,
  help: BUILD_HELP,
  run: (args, io) => (args.values["dry-run"] ? runPlan(args, io) : runBuild(args, io)),
};

/** `tsbuild plan [OPTIONS] PATH`: the build's graph with cache keys; nothing runs. */
export const planCommand: Command = {
  name: "plan",
  summary: "Show the build graph with each step's cache key and whether it is cached",
  usage: "tsbuild plan [OPTIONS] PATH",
  options: BUILD_OPTIONS,
  help: BUILD_HELP,
  run: (args, io) => runPlan(args, io),
};

function contextArg(args: ParsedArgs): string {
  if (args.positionals.length !== 1) {
    throw new BuildError("CLI_USAGE", "tsbuild build requires exactly one argument: the build context directory (or - for standard input)", { hint: "for example: tsbuild build -t name ." });
  }
  return args.positionals[0]!;
}

function commonOptions(args: ParsedArgs, io: CliIo, location: DockerfileLocation) {
  const network = args.values["network"] as string | undefined;
  if (network !== undefined && network !== "default" && network !== "none" && network !== "host") {
    throw new BuildError("CLI_USAGE", `--network ${network}: expected default, none or host`);
  }
  const platform = args.values["platform"] as string | undefined;
  const labels: Record<string, string> = {};
  for (const l of stringList(args.values["label"])) {
    const eq = l.indexOf("=");
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
  }
  const epoch = io.env["SOURCE_DATE_EPOCH"];
  if (epoch !== undefined && epoch !== "" && !/^\d+$/.test(epoch)) throw new BuildError("CLI_USAGE", `SOURCE_DATE_EPOCH=${epoch}: expected whole seconds since 1970`);
  const root = args.values["root"] as string | undefined;
  return {
    contextDir: location.contextDir,
    dockerfile: location.source,
    dockerfilePath: location.dockerfilePath,
    // A temporary context (from standard input) is never seen again: its file hashes are not worth keeping.
    ...(location.dispose ? { keepContextHashes: false } : {}),
    tags: stringList(args.values["tag"]),
    buildArgs: parseBuildArgs(stringList(args.values["build-arg"]), io.env),
    ...(args.values["target"] !== undefined ? { target: args.values["target"] as string } : {}),
    noCache: args.values["no-cache"] === true,
    noCacheFilter: stringList(args.values["no-cache-filter"]),
    pull: args.values["pull"] === true,
    ...(platform !== undefined ? { platform: parsePlatform(platform) } : {}),
    labels,
    ...(network !== undefined ? { network: network as "default" | "none" | "host" } : {}),
    ...(root !== undefined ? { root: resolve(io.cwd, root) } : {}),
    env: io.env,
    ...(args.values["runtime"] !== undefined ? { runtime: args.values["runtime"] as string } : {}),
    ...(epoch ? { sourceDateEpoch: Number(epoch) } : {}),
    fetch: async (ref: string, p: PlatformSpec, store: LocalStore, signal?: AbortSignal) => {
      const [{ pullImage }, { registryClientOptions }] = await Promise.all([import("../../image/pull.js"), import("./pull.js")]);
      await pullImage({ ref, platform: p, store, clientOptions: registryClientOptions(args, io), ...(signal ? { signal } : {}) });
    },
  };
}

/** Parses and reads every `--secret` before the build starts: a missing source fails it at once. */
async function loadSecretFlags(flags: readonly string[], io: CliIo): Promise<Map<string, Buffer>> {
  const { loadSecrets, parseSecretSpec } = await import("../../build/secrets.js");
  return loadSecrets(
    flags.map((f) => parseSecretSpec(f, io.env)),
    io.env,
    io.cwd,
  );
}

async function makeReporter(args: ParsedArgs, io: CliIo): Promise<{ reporter: BuildReporter; finish(ok: boolean): void }> {
  const mode = (args.values["progress"] as string | undefined) ?? (args.values["quiet"] ? "quiet" : "auto");
  if (!(PROGRESS_MODES as readonly string[]).includes(mode)) {
    throw new BuildError("CLI_USAGE", `--progress ${mode}: expected ${PROGRESS_MODES.join(", ")}`);
  }
  if (mode === "quiet") return { reporter: { onEvent: () => undefined }, finish: () => undefined };
  if (mode === "rawjson") return { reporter: new JsonReporter(io.err), finish: () => undefined };
  if (mode === "tty" || (mode === "auto" && io.isTTY)) {
    const { TtyReporter, canDrawLive } = await import("../progress/tty-reporter.js");
    // A terminal without a width gets plain lines (see canDrawLive); a pipe keeps what --progress=tty asks for.
    if (!process.stderr.isTTY || canDrawLive(process.stderr)) {
      const tty = new TtyReporter(process.stderr);
      return { reporter: tty, finish: (ok) => tty.summary(ok) };
    }
  }
  const plain = new PlainReporter(io.err);
  return { reporter: plain, finish: () => undefined };
}

async function runBuild(args: ParsedArgs, io: CliIo): Promise<number> {
  const location = await readDockerfile(io, contextArg(args), args.values["file"] as string | undefined);
  try {
    return await buildAt(location, args, io);
  } finally {
    // A context from standard input lives in a temporary directory.
    await location.dispose?.();
  }
}

async function buildAt(location: DockerfileLocation, args: ParsedArgs, io: CliIo): Promise<number> {
  const outputFlags = stringList(args.values["output"]);
  const outputs: OutputSpec[] = outputFlags.length ? outputFlags.map((await import("../../export/outputs.js")).parseOutput) : [];
  const push = args.values["push"] === true || outputs.some((o) => o.type === "registry" || (o.type === "image" && o.push));
  const secretFlags = stringList(args.values["secret"]);
  const secrets = secretFlags.length ? await loadSecretFlags(secretFlags, io) : undefined;
  const sshFlags = stringList(args.values["ssh"]);
  const sshAgents = sshFlags.length ? await (await import("../../build/ssh.js")).loadSshAgents(sshFlags, io.env, io.cwd) : undefined;
  // buildx stores the image only for the image output (the default) and for a push; `-o type=oci|docker|tar|local` alone writes just the file.
  const storeImage = push || outputs.length === 0 || outputs.some((o) => o.type === "image");
  const options = { ...commonOptions(args, io, location), storeImage, ...(secrets ? { secrets } : {}), ...(sshAgents ? { sshAgents } : {}) };
  if (push && options.tags.length === 0) throw new BuildError("CLI_USAGE", "--push needs at least one -t name to push to");
  const { reporter, finish } = await makeReporter(args, io);
  let result: BuildResult;
  try {
    result = await build(options, reporter, io.signal);
  } catch (err) {
    finish(false);
    if (err instanceof FrontendError) {
      io.err(renderDiagnostics(err.source, err.diagnostics));
      return 1;
    }
    io.err(renderError(err, location.source));
    return err instanceof BuildError ? err.exitCode : 70;
  }
  finish(true);
  const image = result.image!;
  const id = image.config.digest;
  for (const out of outputs) {
    if ("dest" in out) {
      const [{ writeFileOutput }, { Snapshotter }] = await Promise.all([import("../../export/outputs.js"), import("../../snapshot/snapshotter.js")]);
      await writeFileOutput(out, {
        store: result.store,
        snapshotter: new Snapshotter(result.store.root, result.store.content),
        image,
        layers: result.outcomes!.get(result.graph.target)!.layers,
        names: result.names,
        cwd: io.cwd,
        ...(options.sourceDateEpoch !== undefined ? { sourceDateEpoch: options.sourceDateEpoch } : {}),
        signal: io.signal,
      });
    }
  }
  if (push) {
    const [{ pushImage }, { registryClientOptions }] = await Promise.all([import("../../image/push.js"), import("./pull.js")]);
    for (const name of result.names) {
      const pushed = await pushImage({ source: name, store: result.store, clientOptions: registryClientOptions(args, io), signal: io.signal });
      io.err(`pushed ${pushed.name.familiar()}: digest: ${pushed.digest} size: ${pushed.size}\n`);
    }
  }
  const iidfile = args.values["iidfile"] as string | undefined;
  if (iidfile) await writeFile(resolve(io.cwd, iidfile), id);
  const metadataFile = args.values["metadata-file"] as string | undefined;
  if (metadataFile) {
    const meta = {
      "containerimage.digest": image.manifest.digest,
      "containerimage.config.digest": id,
      "containerimage.descriptor": { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size },
      ...(result.names.length ? { "image.name": result.names.map((n) => n.toString()).join(",") } : {}),
    };
    await writeFile(resolve(io.cwd, metadataFile), JSON.stringify(meta, null, 2) + "\n");
  }
  printWarnings(io, result);
  if (args.values["quiet"]) io.out(`${id}\n`);
  else {
    io.err(`writing image ${id}\n`);
    if (storeImage) for (const n of result.names) io.err(`naming to ${n.toString()}\n`);
  }
  return 0;
}

function printWarnings(io: CliIo, result: BuildResult): void {
  if (result.warnings.length === 0) return;
  io.err(`\n${result.warnings.length} warning${result.warnings.length === 1 ? "" : "s"} found:\n`);
  for (const w of result.warnings) {
    io.err(` - ${w.code}: ${w.message}${w.range ? ` (line ${w.range.start.line})` : ""}\n`);
  }
}

async function runPlan(args: ParsedArgs, io: CliIo): Promise<number> {
  const location = await readDockerfile(io, contextArg(args), args.values["file"] as string | undefined);
  try {
    return await planAt(location, args, io);
  } finally {
    await location.dispose?.();
  }
}

async function planAt(location: DockerfileLocation, args: ParsedArgs, io: CliIo): Promise<number> {
  let result: BuildResult;
  try {
    result = await build({ ...commonOptions(args, io, location), dryRun: true }, { onEvent: () => undefined }, io.signal);
  } catch (err) {
    if (err instanceof FrontendError) {
      io.err(renderDiagnostics(err.source, err.diagnostics));
      return 1;
    }
    io.err(renderError(err, location.source));
    return err instanceof BuildError ? err.exitCode : 70;
  }
  for (const index of result.graph.order) {
    const stage = result.graph.stages.get(index)!;
    const base = stage.base.kind === "image" ? `${stage.base.image.ref} (${stage.base.image.manifestDigest})` : stage.base.kind === "stage" ? `stage ${stage.base.stage}` : "scratch";
    io.out(`stage ${index}${stage.name ? ` (${stage.name})` : ""} FROM ${base}\n`);
    for (const step of (result.planned ?? []).filter((p) => p.id.startsWith(`s${index}.`))) {
      const deps = step.stageDeps.length ? ` <- stages ${step.stageDeps.join(",")}` : "";
      // A key that depends on the files of a stage which must run first is known only then.
      const key = step.key === null ? "pending".padEnd(19) : step.key.slice(0, 19);
      io.out(`  ${step.cached ? "CACHED " : "       "} ${key}  ${step.name}${deps}\n`);
    }
  }
  return 0;
}
