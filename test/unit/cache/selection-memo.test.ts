import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { SelectionMemo } from "../../../src/cache/selection-memo.js";

const KEY = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;
const DIGEST = `sha256:${"c".repeat(64)}`;

describe("SelectionMemo", () => {
  test("answers what was put, for that key only, and survives a new instance", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-memo-"));
    expect(await SelectionMemo.at(root).get(KEY)).toBeUndefined();
    await SelectionMemo.at(root).put(KEY, DIGEST);
    expect(await SelectionMemo.at(root).get(KEY)).toBe(DIGEST);
    expect(await SelectionMemo.at(root).get(OTHER)).toBeUndefined();
    // Written through tmp/ and renamed: nothing is left behind there.
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
  });

  test("a damaged entry, or one copied under another key's name, reads as a miss", async () => {
    const root = mkdtempSync(join(tmpdir(), "tsb-memo-"));
    const memo = SelectionMemo.at(root);
    await memo.put(KEY, DIGEST);
    const dir = join(root, "cache", "selections");
    writeFileSync(join(dir, `${"b".repeat(64)}.json`), JSON.stringify({ key: KEY, digest: DIGEST }));
    expect(await memo.get(OTHER)).toBeUndefined();
    writeFileSync(join(dir, `${"a".repeat(64)}.json`), '{"key":"sha256:aaa');
    expect(await memo.get(KEY)).toBeUndefined();
    writeFileSync(join(dir, `${"a".repeat(64)}.json`), JSON.stringify({ key: KEY, digest: "sha256:short" }));
    expect(await memo.get(KEY)).toBeUndefined();
  });
});
