import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { canonicalJson, stepKey } from "../../../src/cache/keys.js";
import { parseInstructions } from "../../../src/instructions/parse.js";
import { resolveDockerfile } from "../../../src/instructions/resolve.js";
import type { BaseImage } from "../../../src/plan/graph.js";
import { imageRefsNeeded, planBuild } from "../../../src/plan/plan.js";
import { parseDockerfile } from "../../../src/syntax/parse.js";

const platform = { os: "linux", architecture: "amd64" };

/** A fixed fake base image: plans are pure, so no registry is needed. */
function fakeImage(ref: string): BaseImage {
  return {
    ref,
    manifestDigest: `sha256:${"ab".repeat(32)}`,
    config: {
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"], Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [`sha256:${"cd".repeat(32)}`] },
    },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${"ef".repeat(32)}`, size: 100 }],
  };
}

/** The plan as text: every step's name, definition digest and definition, then each stage's final config. */
function dumpPlan(text: string, buildArgs: Record<string, string>): string {
  const { ast } = parseDockerfile(text);
  const resolved = resolveDockerfile(parseInstructions(ast), { buildArgs, platform, buildPlatform: platform, imageEnv: () => ["PATH=/usr/local/bin:/usr/bin:/bin"] });
  const images = new Map(imageRefsNeeded(resolved).map((r) => [r, fakeImage(r)]));
  const graph = planBuild(resolved, { images, buildArgs, platform });
  const out: string[] = [];
  for (const index of graph.order) {
    const stage = graph.stages.get(index)!;
    out.push(`stage ${index}${stage.name ? ` ${stage.name}` : ""} base=${stage.base.kind === "image" ? stage.base.image.ref : stage.base.kind === "stage" ? `stage ${stage.base.stage}` : "scratch"}`);
    for (const e of stage.entries) {
      if (e.kind === "meta") {
        out.push(`  meta  ${e.createdBy}`);
        continue;
      }
      const digest = stepKey({ definition: e.step.definition, parent: "" }).slice(7, 23);
      out.push(`  step  ${digest}  ${e.step.name}`);
      out.push(`        ${canonicalJson(e.step.definition)}`);
    }
    out.push(`  config ${canonicalJson(stage.config)}`);
  }
  return out.join("\n") + "\n";
}

const dir = join(import.meta.dirname, "../../../fixtures/plans");
const cases = readdirSync(dir).sort();

describe("golden plans (step definitions and their digests)", () => {
  test("the corpus is not empty", () => expect(cases.length).toBeGreaterThanOrEqual(4));
  test.each(cases)("%s", async (name) => {
    const text = readFileSync(join(dir, name, "Dockerfile"), "utf8");
    const argsFile = join(dir, name, "build-args");
    const buildArgs = existsSync(argsFile)
      ? Object.fromEntries(readFileSync(argsFile, "utf8").split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]))
      : {};
    await expect(dumpPlan(text, buildArgs)).toMatchFileSnapshot(join(dir, name, "plan.txt"));
  });

  test("comments, blank lines and instruction casing do not change any step definition", () => {
    const a = dumpPlan("FROM base\nRUN make\nCOPY a /b\n", {});
    const b = dumpPlan("# comment\n\nfrom base\n\n# another\nrun make\ncopy a /b\n", {}).replace(/\] (from|run|copy)/g, (m) => m.toUpperCase().replace("] ", "] "));
    const defs = (s: string) => s.split("\n").filter((l) => l.startsWith("        "));
    expect(defs(b)).toEqual(defs(a));
  });

  test("BuildKit's config details: scratch gets WorkingDir /, CMD sets ArgsEscaped (inherited; ENTRYPOINT alone does not)", () => {
    const configs = (text: string): Record<string, unknown>[] =>
      dumpPlan(text, {})
        .split("\n")
        .filter((l) => l.startsWith("  config "))
        .map((l) => JSON.parse(l.slice("  config ".length)) as Record<string, unknown>);
    // dockerfile2llb emptyImage: WorkingDir "/" and the default PATH.
    expect(configs("FROM scratch\n")[0]).toMatchObject({ WorkingDir: "/", Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] });
    // dispatchCmd sets ArgsEscaped for either form; dispatchEntrypoint leaves it.
    const [a, b] = configs("FROM base AS a\nCMD echo hi\nFROM a\nENTRYPOINT [\"/bin/echo\"]\n");
    expect(a!["ArgsEscaped"]).toBe(true);
    expect(b!["ArgsEscaped"]).toBe(true);
    expect(configs("FROM base\nENTRYPOINT [\"/bin/echo\"]\n")[0]!["ArgsEscaped"]).toBeUndefined();
  });

  test("RUN's history shows, for each ARG, the value the process sees: an ENV of the same name wins (runCommandString)", () => {
    const graphText = "FROM base\nARG A=1 C=c\nENV C=env\nRUN echo $C\n";
    const { ast } = parseDockerfile(graphText);
    const resolved = resolveDockerfile(parseInstructions(ast), { buildArgs: {}, platform, buildPlatform: platform, imageEnv: () => [] });
    const graph = planBuild(resolved, { images: new Map([["base", fakeImage("base")]]), buildArgs: {}, platform });
    const step = graph.stages.get(0)!.entries.find((e) => e.kind === "step")!;
    expect(step.kind === "step" && step.step.createdBy).toBe("RUN |2 A=1 C=env /bin/sh -c echo $C # buildkit");
  });

  test("an ARG value RUN sees changes its definition; an unused build arg does not", () => {
    const text = "FROM base\nARG V\nRUN echo\nCOPY a /a\n";
    const defs = (args: Record<string, string>) => dumpPlan(text, args).split("\n").filter((l) => l.startsWith("  step"));
    expect(defs({ V: "1" })[0]).not.toBe(defs({ V: "2" })[0]);
    expect(defs({ V: "1" })[1]).toBe(defs({ V: "2" })[1]);
    expect(defs({ V: "1", OTHER: "x" })).toEqual(defs({ V: "1" }));
  });

  test("a mount without target is relative to WORKDIR; a target of / is refused (BuildKit dispatchRunMounts)", () => {
    const text = "FROM base AS bin\nFROM base\nWORKDIR /src\nRUN --mount=from=bin --mount=type=cache,target=cache true\n";
    const plan = dumpPlan(text, {});
    expect(plan).toContain('"sourceRef":"stage:0","target":"/src","type":"bind"');
    expect(plan).toContain('"id":"/src/cache","readonly":false,"target":"/src/cache","type":"cache"');
    expect(() => dumpPlan("FROM base\nRUN --mount=type=bind true\n", {})).toThrow('invalid mount target "/"');
  });

  test("proxy build args reach RUN but not its definition", () => {
    const text = "FROM base\nRUN echo\n";
    expect(dumpPlan(text, { HTTP_PROXY: "http://proxy:3128" })).toBe(dumpPlan(text, {}));
  });
});
