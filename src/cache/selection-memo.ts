import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../store/atomic-write.js";
import { storeLayout } from "../store/layout.js";

/**
 * Remembers content checksums of `COPY --from=<stage>` selections, so that
 * a rebuild does not mount and re-read a stage's files to key a copy it
 * already keyed.
 *
 * An entry maps a memo key (the source's layer chain, by diffID, plus the
 * selection: see `solve/stage-checksum.ts`) to the selection's checksum.
 * The mapping is a pure function, because a chain of diffIDs names the
 * exact bytes of every layer, so an entry never goes stale; a missing or
 * damaged one only costs a recomputation. One small file per entry under
 * `<root>/cache/selections/`, written to `<root>/tmp` and renamed, so a
 * crash or a concurrent build leaves either the whole entry or none.
 */
export class SelectionMemo {
  private constructor(
    private readonly dir: string,
    private readonly tmpDir: string,
  ) {}

  /** The memo of the store at `root` (its directory is made on the first {@link put}). */
  static at(root: string): SelectionMemo {
    const layout = storeLayout(root);
    return new SelectionMemo(layout.selectionsDir, layout.tmpDir);
  }

  /** The checksum recorded for `memoKey` (`sha256:<hex>`), or undefined. */
  async get(memoKey: string): Promise<string | undefined> {
    try {
      const text = await readFile(this.file(memoKey), "utf8");
      const entry = JSON.parse(text) as { key?: unknown; digest?: unknown };
      // The key is stored too: a file renamed or copied by hand cannot answer for another key.
      return entry.key === memoKey && typeof entry.digest === "string" && /^sha256:[0-9a-f]{64}$/.test(entry.digest) ? entry.digest : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records `digest` as the checksum for `memoKey`. */
  async put(memoKey: string, digest: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
    await writeFileAtomic(this.file(memoKey), JSON.stringify({ key: memoKey, digest }), { tmpDir: this.tmpDir });
  }

  private file(memoKey: string): string {
    return join(this.dir, `${memoKey.replace(/^sha256:/, "")}.json`);
  }
}
