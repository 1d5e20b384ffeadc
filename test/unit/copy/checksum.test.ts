import { chmod, chown, mkdir, mkdtemp, rename, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { checksumSelection } from "../../../src/copy/checksum.js";
import { FileHashCache } from "../../../src/copy/file-hash-cache.js";
import type { SourceSelection } from "../../../src/copy/select.js";
import { IgnoreMatcher } from "../../../src/context/dockerignore.js";
import { BuildError } from "../../../src/diagnostics/build-error.js";

let ctx: string;
beforeEach(async () => {
  ctx = await mkdtemp(join(tmpdir(), "tsbuild-checksum-"));
  await mkdir(join(ctx, "app/lib"), { recursive: true });
  await writeFile(join(ctx, "app/main.js"), "console.log(1)");
  await writeFile(join(ctx, "app/lib/util.js"), "export {}");
  await symlink("lib/util.js", join(ctx, "app/link"));
  await writeFile(join(ctx, "app/debug.log"), "noise");
  await writeFile(join(ctx, "README.md"), "readme");
});
afterEach(async () => {
  await rm(ctx, { recursive: true, force: true });
});

const sel = (extra: Partial<SourceSelection> = {}): SourceSelection => ({ root: ctx, sources: ["app"], followTopLevelSymlinks: true, ...extra });
const digest = async (extra: Partial<SourceSelection> = {}): Promise<string> => (await checksumSelection(sel(extra), {})).digest;

describe("checksumSelection", () => {
  it("counts what it selects", async () => {
    const r = await checksumSelection(sel(), {});
    expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.files).toBe(4);
    expect(r.bytes).toBe("console.log(1)".length + "export {}".length + "noise".length);
  });

  it("is stable: same files, same digest; touch (mtime) does not change it", async () => {
    const before = await digest();
    expect(await digest()).toBe(before);
    await utimes(join(ctx, "app/main.js"), 1_000_000, 1_000_000);
    await utimes(join(ctx, "app/lib"), 2_000_000, 2_000_000);
    expect(await digest()).toBe(before);
  });

  it("changes with content, mode, a new file, a rename, a symlink retarget", async () => {
    const seen = new Set<string>([await digest()]);
    const changed = async (): Promise<void> => {
      const d = await digest();
      expect(seen.has(d)).toBe(false);
      seen.add(d);
    };
    await writeFile(join(ctx, "app/main.js"), "console.log(2)"); // same size, new content
    await changed();
    await chmod(join(ctx, "app/main.js"), 0o755);
    await changed();
    await writeFile(join(ctx, "app/lib/new.js"), "");
    await changed();
    await rename(join(ctx, "app/lib/new.js"), join(ctx, "app/lib/renamed.js"));
    await changed();
    await unlink(join(ctx, "app/link"));
    await symlink("main.js", join(ctx, "app/link"));
    await changed();
    await chmod(join(ctx, "app/lib"), 0o700);
    await changed();
  });

  it("ignores files hidden by .dockerignore or --exclude", async () => {
    const ignore = new IgnoreMatcher(["**/*.log"]);
    const withIgnore = await digest({ ignore });
    const withExclude = await digest({ excludes: ["*.log"] });
    await writeFile(join(ctx, "app/debug.log"), "other noise");
    await writeFile(join(ctx, "app/more.log"), "x");
    expect(await digest({ ignore })).toBe(withIgnore);
    expect(await digest({ excludes: ["*.log"] })).toBe(withExclude);
    // Without the filters those changes count.
    expect((await checksumSelection(sel({ ignore }), {})).files).toBe(3);
  });

  it("covers the source patterns and only the selected files", async () => {
    const a = await digest({ sources: ["app/main.js"] });
    await writeFile(join(ctx, "README.md"), "changed");
    expect(await digest({ sources: ["app/main.js"] })).toBe(a);
    expect(await digest({ sources: ["app/*.js"] })).not.toBe(a);
  });

  it("ignores the owner of context files (they reach BuildKit as 0:0), not of --from sources", async () => {
    const ctxDigest = await digest();
    const fromDigest = await digest({ keepOwnership: true });
    await chown(join(ctx, "app/main.js"), 1234, 1234);
    expect(await digest()).toBe(ctxDigest);
    expect(await digest({ keepOwnership: true })).not.toBe(fromDigest);
  });

  it("throws naming a missing source; a wildcard may match nothing", async () => {
    const err = await checksumSelection(sel({ sources: ["app", "missing.txt"] }), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).code).toBe("COPY_SOURCE_NOT_FOUND");
    expect((err as BuildError).message).toBe('"/missing.txt": not found');
    const ok = await checksumSelection(sel({ sources: ["app", "nomatch*"] }), {});
    expect(ok.files).toBe(4);
    const ignored = await checksumSelection(sel({ sources: ["README.md"], ignore: new IgnoreMatcher(["*.md"]) }), {}).catch((e: unknown) => e);
    expect((ignored as BuildError).code).toBe("COPY_SOURCE_NOT_FOUND");
  });

  it("gives the same digest with a warm cache, and reads nothing then", async () => {
    const cachePath = `${ctx}-hashes`;
    // Hash "later" than the files were written, so the entries are trusted (see FileHashCache).
    const now = (): bigint => BigInt(Date.now()) * 1_000_000n + 5_000_000_000n;
    const cold = await FileHashCache.open(cachePath, { now });
    const d1 = await checksumSelection(sel(), { cache: cold });
    await cold.save();
    expect(d1.digest).toBe(await digest());
    const warm = await FileHashCache.open(cachePath, { now });
    const hash = vi.spyOn(warm, "hash");
    const d2 = await checksumSelection(sel(), { cache: warm });
    expect(d2.digest).toBe(d1.digest);
    expect(hash).not.toHaveBeenCalled();
    // A real change is still seen (its ctime moved, so its entry is no longer trusted).
    await writeFile(join(ctx, "app/main.js"), "console.log(3)");
    const d3 = await checksumSelection(sel(), { cache: warm });
    expect(d3.digest).not.toBe(d1.digest);
    expect(hash).toHaveBeenCalledTimes(1);
    await rm(cachePath, { force: true });
  });

  it("hashes many files with slow reads correctly (workers re-check the queue after yielding)", async () => {
    for (let i = 0; i < 40; i++) await writeFile(join(ctx, "app/lib", `f${i}.js`), String(i));
    const cache = FileHashCache.memory();
    const original = cache.hash.bind(cache);
    vi.spyOn(cache, "hash").mockImplementation(async (p, st) => {
      await new Promise((r) => setTimeout(r, 12));
      return original(p, st);
    });
    const slow = await checksumSelection(sel(), { cache });
    expect(slow.digest).toBe(await digest());
  });

  it("refuses URL sources (their content is not on disk)", async () => {
    const err = await checksumSelection(sel({ sources: ["https://example.com/x"] }), {}).catch((e: unknown) => e);
    expect((err as BuildError).code).toBe("DF_ARGS");
  });

  it("honours an abort signal", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await checksumSelection(sel(), { signal: ac.signal }).catch((e: unknown) => e);
    expect((err as BuildError).code).toBe("ABORTED");
  });
});
