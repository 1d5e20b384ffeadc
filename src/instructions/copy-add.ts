import { BuildError } from "../diagnostics/build-error.js";
import type { InstructionNode } from "../syntax/ast.js";
import { heredocMarker } from "../syntax/heredoc.js";
import type { FlagValues } from "./flags.js";
import type { CopyInstruction, InlineSource } from "./types.js";

/** `--chmod` in octal (`755`, `0644`). */
export const OCTAL_MODE_RE = /^[0-7]{1,4}$/;
/** `--chmod` in symbolic form (`u+x`, `u=rwX,go=rX`), accepted since Dockerfile 1.14. */
export const SYMBOLIC_MODE_RE = /^[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+(?:,[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+)*$/;

/**
 * `COPY` and `ADD`: sources then destination (BuildKit's
 * `parseSourcesAndDest`). Sources that are heredoc markers become inline
 * files; a heredoc as destination is an error.
 */
export function convertCopy(node: InstructionNode, flags: FlagValues, kind: "copy" | "add"): CopyInstruction {
  const args = node.args;
  if (args.length < 2) {
    throw new BuildError("DF_ARGS", `${node.keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`, {
      locations: [node.range],
      hint: `write ${node.keyword} SOURCE... DEST`,
    });
  }
  const dest = args[args.length - 1]!;
  if (!node.json && heredocMarker(dest)) {
    throw new BuildError("DF_ARGS", `${node.keyword} cannot accept a heredoc as a destination`, { locations: [node.argsRange] });
  }
  const bodies = new Map(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const inline: InlineSource[] = [];
  for (const src of args.slice(0, -1)) {
    const marker = node.json ? undefined : heredocMarker(src);
    const body = marker ? bodies.get(marker.name) : undefined;
    if (marker && body) inline.push({ name: marker.name, content: body.content, quoted: marker.quoted });
    else sources.push(src);
  }
  const chmod = flags.string("chmod");
  if (chmod !== undefined && !chmod.includes("$") && !OCTAL_MODE_RE.test(chmod) && !SYMBOLIC_MODE_RE.test(chmod)) {
    throw new BuildError("DF_FLAG", `invalid --chmod value "${chmod}" for ${node.keyword}`, {
      locations: [flags.node("chmod")!.range],
      hint: "use an octal mode such as 755, or a symbolic one such as u+x or u=rwX,go=rX",
    });
  }
  const opt = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined ? {} : ({ [key]: v } as Record<K, V>));
  return {
    kind,
    range: node.range,
    node,
    sources,
    inline,
    dest,
    ...opt("from", flags.string("from")),
    ...opt("chown", flags.string("chown")),
    ...opt("chmod", chmod),
    link: flags.bool("link") ?? false,
    parents: flags.bool("parents") ?? false,
    excludes: flags.strings("exclude"),
    keepGitDir: flags.bool("keep-git-dir") ?? false,
    ...opt("checksum", flags.string("checksum")),
    ...opt("unpack", flags.bool("unpack")),
  };
}
