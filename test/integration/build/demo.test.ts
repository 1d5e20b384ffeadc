import { copyFileSync, cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { runImage } from "../../helpers/run-image.js";
import { runTsbuild } from "../../helpers/tsbuild-process.js";

// The README's first command, as a newcomer runs it on a fresh machine:
//   cp /bin/busybox fixtures/demo/ && npx tsbuild -t demo fixtures/demo
// (on a copy of the fixture, so the repository stays clean).
test("the README demo builds a multi-stage image with RUN and COPY, no registry needed, and it runs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsb-demo-"));
  const ctx = join(dir, "demo");
  cpSync(join(import.meta.dirname, "../../../fixtures/demo"), ctx, { recursive: true });
  copyFileSync("/bin/busybox", join(ctx, "busybox"));
  const env = { TSBUILD_ROOT: join(dir, "root") };
  const r = await runTsbuild(["-t", "demo", "demo"], { cwd: dir, env });
  expect(r.stderr).toContain("naming to docker.io/library/demo:latest");
  expect(r.code).toBe(0);
  const out = await runTsbuild(["save", "demo", "-o", join(dir, "demo.tar")], { cwd: dir, env });
  expect(out.code).toBe(0);
  expect(runImage(join(dir, "demo.tar"), "latest")).toMatch(/^HELLO FROM THE TSBUILD DEMO\nbuilt on \S+\n$/);
});
