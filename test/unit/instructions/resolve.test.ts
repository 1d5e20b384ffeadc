import { describe, expect, test } from "vitest";
import type { Instruction } from "../../../src/instructions/types.js";
import { DEFAULT_PATH } from "../../../src/instructions/scope.js";
import { errors, resolved } from "./helpers.js";

const amd64 = { platform: { os: "linux", architecture: "amd64" }, buildPlatform: { os: "linux", architecture: "amd64" } };

function step(r: ReturnType<typeof resolved>, stage: number, i: number): Instruction {
  return r.stages[stage]!.steps[i]!.instruction;
}

describe("ARG scoping (Dockerfile reference, 'Understand how ARG and FROM interact' and 'Scope')", () => {
  test("global ARGs expand FROM; build args override their defaults", () => {
    const lines = ["ARG CODE_VERSION=latest", "FROM base:${CODE_VERSION}", "CMD /code/run-app"];
    expect(resolved(amd64, ...lines).stages[0]!.from.image).toBe("base:latest");
    expect(resolved({ ...amd64, buildArgs: { CODE_VERSION: "2" } }, ...lines).stages[0]!.from.image).toBe("base:2");
  });

  test("a global ARG is not visible in a stage until re-declared without a value", () => {
    const r = resolved(amd64, "ARG VERSION=latest", "FROM busybox:$VERSION", "WORKDIR /$VERSION", "ARG VERSION", "WORKDIR /v$VERSION");
    expect(step(r, 0, 0)).toMatchObject({ path: "/" });
    expect(step(r, 0, 2)).toMatchObject({ path: "/vlatest" });
  });

  test("stage ARG defaults, build-arg overrides, use before declaration is empty", () => {
    const lines = ["FROM busybox", "USER ${username:-some_user}", "ARG username", "USER $username"];
    const r = resolved({ ...amd64, buildArgs: { username: "what_user" } }, ...lines);
    expect(step(r, 0, 0)).toMatchObject({ user: "some_user" });
    expect(step(r, 0, 2)).toMatchObject({ user: "what_user" });
    const d = resolved(amd64, "FROM scratch", "ARG A=x", "WORKDIR /$A");
    expect(step(d, 0, 1)).toMatchObject({ path: "/x" });
  });

  test("ENV shadows an ARG of the same name, in either order", () => {
    const r = resolved({ ...amd64, buildArgs: { V: "arg" } }, "FROM scratch", "ARG V", "ENV V=env", "WORKDIR /$V", "ARG V=again", "WORKDIR /$V");
    expect(step(r, 0, 2)).toMatchObject({ path: "/env" });
    expect(step(r, 0, 4)).toMatchObject({ path: "/env" });
  });

  test("one value per variable throughout an instruction (ENV abc=bye def=$abc)", () => {
    const r = resolved(amd64, "FROM scratch", "ENV abc=hello", "ENV abc=bye def=$abc", "ENV ghi=$abc");
    expect(step(r, 0, 1)).toMatchObject({ pairs: [{ key: "abc", value: "bye" }, { key: "def", value: "hello" }] });
    expect(step(r, 0, 2)).toMatchObject({ pairs: [{ key: "ghi", value: "bye" }] });
    // FROM scratch sets no PATH: the stage gets BuildKit's default first.
    expect(r.stages[0]!.finalEnv).toEqual([["PATH", DEFAULT_PATH], ["abc", "bye"], ["def", "hello"], ["ghi", "bye"]]);
  });

  test("a base without PATH gets BuildKit's default, which ENV can extend; a base's own PATH is kept", () => {
    const r = resolved(amd64, "FROM scratch AS s", "ENV PATH=$PATH:/opt/bin", "FROM s", "ENV X=$PATH");
    expect(step(r, 0, 0)).toMatchObject({ pairs: [{ key: "PATH", value: `${DEFAULT_PATH}:/opt/bin` }] });
    expect(step(r, 1, 0)).toMatchObject({ pairs: [{ key: "X", value: `${DEFAULT_PATH}:/opt/bin` }] });
    const img = resolved({ ...amd64, imageEnv: () => ["PATH=/custom"] }, "FROM img", "ENV X=$PATH");
    expect(step(img, 0, 0)).toMatchObject({ pairs: [{ key: "X", value: "/custom" }] });
  });

  test("a stage built FROM another inherits its ENV and ARGs", () => {
    const r = resolved(amd64, "FROM scratch AS base", "ARG X=1", "ENV E=2", "FROM base", "WORKDIR /$X/$E");
    expect(r.stages[1]!.base).toEqual({ kind: "stage", stage: 0 });
    expect(step(r, 1, 0)).toMatchObject({ path: "/1/2" });
  });

  test("automatic platform ARGs: global in FROM, declared inside a stage", () => {
    const r = resolved(amd64, "FROM --platform=$BUILDPLATFORM scratch", "ARG TARGETARCH", "WORKDIR /$TARGETARCH/$TARGETOS");
    expect(r.stages[0]!.from.platform).toBe("linux/amd64");
    expect(step(r, 0, 1)).toMatchObject({ path: "/amd64/" });
  });

  test("the step records the ENV and ARGs in scope before it", () => {
    const r = resolved({ ...amd64, buildArgs: { B: "b" } }, "FROM scratch", "ARG B", "ENV E=1", "RUN env");
    expect(r.stages[0]!.steps[2]!.env).toEqual([["PATH", DEFAULT_PATH], ["E", "1"]]);
    expect(r.stages[0]!.steps[2]!.args).toEqual([["B", "b"]]);
  });

  test("unused build args are reported; proxy and BUILDKIT_ args are not", () => {
    const r = resolved({ ...amd64, buildArgs: { USED: "1", UNUSED: "2", HTTP_PROXY: "x", BUILDKIT_INLINE_CACHE: "1" } }, "FROM scratch", "ARG USED");
    expect(r.unusedBuildArgs).toEqual(["UNUSED"]);
  });

  test("COPY, LABEL, EXPOSE, VOLUME, STOPSIGNAL and RUN --mount expand; RUN, CMD do not", () => {
    const r = resolved(
      amd64,
      "FROM scratch",
      "ENV D=/d P=80 S=SIGINT",
      "COPY --chown=$P:$P src${P} $D/",
      "LABEL k=$D",
      "EXPOSE $P",
      "VOLUME $D",
      "STOPSIGNAL $S",
      "RUN --mount=type=cache,target=$D/cache echo $D",
      "CMD echo $D",
    );
    expect(errors(r)).toEqual([]);
    expect(step(r, 0, 1)).toMatchObject({ sources: ["src80"], dest: "/d/", chown: "80:80" });
    expect(step(r, 0, 2)).toMatchObject({ pairs: [{ value: "/d" }] });
    expect(step(r, 0, 3)).toMatchObject({ ports: ["80"] });
    expect(step(r, 0, 4)).toMatchObject({ paths: ["/d"] });
    expect(step(r, 0, 5)).toMatchObject({ signal: "SIGINT" });
    expect(step(r, 0, 6)).toMatchObject({ mounts: [{ target: "/d/cache" }], command: { script: "echo $D" } });
    expect(step(r, 0, 7)).toMatchObject({ command: { script: "echo $D" } });
  });

  test("COPY heredoc bodies expand unless the delimiter is quoted", () => {
    const r = resolved(amd64, "FROM scratch", "ENV N=x", "COPY <<a <<'b' /", "$N \"q\"", "a", "$N", "b");
    expect(step(r, 0, 1)).toMatchObject({ inline: [{ content: 'x "q"\n' }, { content: "$N\n" }] });
  });

  test("COPY heredoc bodies treat quotes as plain text (BuildKit's ExpandRaw with SkipProcessQuotes)", () => {
    const r = resolved(amd64, "FROM scratch", "ENV N=x", "COPY <<a /", "it's '$N' and \"$N\"", "a");
    expect(errors(r)).toEqual([]);
    expect(step(r, 0, 1)).toMatchObject({ inline: [{ content: "it's 'x' and \"x\"\n" }] });
  });

  test("expansion errors are located diagnostics", () => {
    const r = resolved(amd64, "FROM scratch", "WORKDIR ${NOPE:?must be set}");
    expect(errors(r)).toEqual(['failed to process "${NOPE:?must be set}": NOPE: must be set']);
    expect(r.diagnostics[0]!.range?.start.line).toBe(2);
  });
});

describe("stages, edges and the target", () => {
  const file = ["FROM scratch AS a", "FROM scratch AS b", "COPY --from=a / /", "FROM b AS c", "RUN --mount=from=0,target=/m true", "FROM scratch AS unrelated"];

  test("edges: FROM stage, COPY --from name, RUN --mount from= index", () => {
    const r = resolved({ ...amd64, target: "c" }, ...file);
    expect(r.stages.map((s) => s.deps)).toEqual([[], [0], [1, 0], []]);
    expect(r.target).toBe(2);
    expect(r.needed).toEqual([0, 1, 2]);
  });

  test("the default target is the last stage, and unrelated stages are not needed", () => {
    const r = resolved(amd64, ...file);
    expect(r.target).toBe(3);
    expect(r.needed).toEqual([3]);
  });

  test("an unknown target suggests the closest stage", () => {
    const r = resolved({ ...amd64, target: "bulid" }, "FROM scratch AS build", "FROM scratch");
    expect(r.diagnostics).toContainEqual(expect.objectContaining({ code: "DF_STAGE", message: 'target stage "bulid" could not be found', hint: 'did you mean "build"?' }));
  });

  test("--from naming a later or the current stage by index is an error; a near-miss name warns", () => {
    expect(errors(resolved(amd64, "FROM scratch", "COPY --from=0 / /"))).toEqual([expect.stringMatching(/refers to current build stage/)]);
    const r = resolved(amd64, "FROM scratch AS build", "FROM scratch", "COPY --from=buidl / /");
    expect(r.diagnostics).toContainEqual(expect.objectContaining({ severity: "warning", hint: 'did you mean stage "build"?' }));
  });

  test("a stage cycle is reported", () => {
    const r = resolved(amd64, "FROM b AS a", "FROM a AS b");
    expect(errors(r)).toContainEqual(expect.stringMatching(/circular dependency detected on stage/));
  });

  test("base images: scratch, image reference, image env known through the resolver", () => {
    const r = resolved({ ...amd64, imageEnv: (ref) => (ref === "golang" ? ["GOPATH=/go"] : undefined) }, "FROM golang", "WORKDIR $GOPATH/src", "FROM scratch");
    expect(r.stages[0]!.base).toEqual({ kind: "image", ref: "golang" });
    expect(step(r, 0, 0)).toMatchObject({ path: "/go/src" });
    expect(r.stages[1]!.base).toEqual({ kind: "scratch" });
  });
});
