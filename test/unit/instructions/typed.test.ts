import { describe, expect, test } from "vitest";
import type { Instruction } from "../../../src/instructions/types.js";
import { errors, typed } from "./helpers.js";

function only(...lines: string[]): Instruction {
  const p = typed("FROM scratch", ...lines);
  expect(errors(p)).toEqual([]);
  return p.stages[0]!.instructions[0]!;
}

function errorOf(...lines: string[]): string {
  const e = errors(typed(...lines));
  expect(e.length).toBeGreaterThan(0);
  return e[0]!;
}

describe("typed instructions", () => {
  test("FROM with platform and stage name (lower-cased)", () => {
    const p = typed("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build");
    expect(p.stages[0]!.from).toMatchObject({ image: "golang:1.22", platform: "$BUILDPLATFORM", stageName: "build" });
    expect(p.stages[0]!.name).toBe("build");
  });

  test("FROM argument count and stage-name rules", () => {
    expect(errorOf("FROM a b")).toBe("FROM requires either one or three arguments");
    expect(errorOf("FROM a AS 1abc")).toMatch(/invalid name for build stage: "1abc"/);
  });

  test("RUN shell and exec forms, network and security", () => {
    expect(only("RUN echo hi")).toMatchObject({ kind: "run", command: { form: "shell", script: "echo hi" } });
    expect(only('RUN ["echo", "hi"]')).toMatchObject({ command: { form: "exec", args: ["echo", "hi"] } });
    expect(only("RUN --network=none --security=insecure true")).toMatchObject({ network: "none", security: "insecure" });
    expect(errorOf("FROM scratch", "RUN --network=bridge true")).toMatch(/unsupported network mode "bridge"/);
  });

  test("RUN heredoc keeps its body", () => {
    const r = only("RUN <<EOF", "echo a", "EOF");
    expect(r).toMatchObject({ kind: "run", heredocs: [{ name: "EOF", content: "echo a\n" }] });
  });

  test("RUN --mount of every type, with BuildKit's defaults", () => {
    const r = only(
      "RUN --mount=type=cache,target=/root/.cache --mount=target=/src --mount=type=tmpfs,target=/t,size=64m --mount=type=secret,id=tok --mount=type=ssh true",
    );
    if (r.kind !== "run") throw new Error("not run");
    expect(r.mounts).toEqual([
      { type: "cache", target: "/root/.cache", readonly: false },
      { type: "bind", target: "/src", readonly: true },
      { type: "tmpfs", target: "/t", size: 64 * 1024 * 1024, readonly: false },
      { type: "secret", id: "tok", target: "/run/secrets/tok", readonly: true },
      { type: "ssh", id: "default", target: "/run/buildkit/ssh_agent.0", readonly: true },
    ]);
  });

  test("COPY and ADD flags", () => {
    const c = only("COPY --from=build --chown=app:app --chmod=u=rwX,go=rX --link --parents --exclude=*.md --exclude=.git a b /dst/");
    expect(c).toMatchObject({
      kind: "copy",
      sources: ["a", "b"],
      dest: "/dst/",
      from: "build",
      chown: "app:app",
      chmod: "u=rwX,go=rX",
      link: true,
      parents: true,
      excludes: ["*.md", ".git"],
    });
    const a = only("ADD --checksum=sha256:abc --keep-git-dir --unpack=false https://x/y.tgz /y");
    expect(a).toMatchObject({ kind: "add", checksum: "sha256:abc", keepGitDir: true, unpack: false });
  });

  test("COPY heredoc sources become inline files", () => {
    const c = only("COPY <<one <<'two' /dst/", "1", "one", "2", "two");
    expect(c).toMatchObject({ sources: [], inline: [{ name: "one", content: "1\n", quoted: false }, { name: "two", content: "2\n", quoted: true }] });
  });

  test("COPY errors: one argument, bad chmod, flags of the wrong instruction", () => {
    expect(errorOf("FROM scratch", "COPY a")).toMatch(/COPY requires at least two arguments/);
    expect(errorOf("FROM scratch", "COPY --chmod=999 a b")).toMatch(/invalid --chmod value "999"/);
    expect(errorOf("FROM scratch", "ADD --from=x a b")).toBe("unknown flag --from for ADD");
    expect(errorOf("FROM scratch", "COPY --keep-git-dir a b")).toBe("unknown flag --keep-git-dir for COPY");
    expect(errorOf("FROM scratch", "COPY --link=maybe a b")).toMatch(/expecting boolean value for flag --link/);
    expect(errorOf("FROM scratch", "COPY --from a b")).toMatch(/missing a value on flag --from/);
    expect(errorOf("FROM scratch", "COPY --from=a --from=b a b")).toMatch(/duplicate flag --from/);
    expect(errorOf("FROM scratch", "ENV --foo=1 A=b")).toBe("unknown flag --foo for ENV");
  });

  test("unknown flag errors carry the flag's location and a suggestion", () => {
    const p = typed("FROM scratch", "COPY --form=x a b");
    const d = p.diagnostics[0]!;
    expect(d.range).toEqual({ start: { line: 2, column: 6 }, end: { line: 2, column: 13 } });
    expect(d.hint).toBe("did you mean --from?");
  });

  test("ENV, LABEL and ARG keep values as written until resolved", () => {
    expect(only('ENV A="x y" B=$A')).toMatchObject({ pairs: [{ key: "A", value: '"x y"', legacy: false }, { key: "B", value: "$A" }] });
    expect(only("ENV A the rest")).toMatchObject({ pairs: [{ key: "A", value: "the rest", legacy: true }] });
    expect(only("LABEL a=b")).toMatchObject({ kind: "label", pairs: [{ key: "a", value: "b" }] });
    expect(only('ARG a b="c d"')).toMatchObject({ args: [{ key: "a" }, { key: "b", value: '"c d"' }] });
  });

  test("image metadata instructions", () => {
    expect(only('CMD ["a"]')).toMatchObject({ kind: "cmd", command: { form: "exec", args: ["a"] } });
    expect(only("ENTRYPOINT exec x")).toMatchObject({ kind: "entrypoint", command: { form: "shell", script: "exec x" } });
    expect(only("EXPOSE 80 53/udp")).toMatchObject({ ports: ["80", "53/udp"] });
    expect(only('VOLUME ["/a", "/b"]')).toMatchObject({ paths: ["/a", "/b"] });
    expect(only("USER app:app")).toMatchObject({ user: "app:app" });
    expect(only("WORKDIR /app")).toMatchObject({ path: "/app" });
    expect(only("STOPSIGNAL SIGTERM")).toMatchObject({ signal: "SIGTERM" });
    expect(only('SHELL ["/bin/bash", "-c"]')).toMatchObject({ shell: ["/bin/bash", "-c"] });
    expect(only("MAINTAINER me")).toMatchObject({ maintainer: "me" });
  });

  test("HEALTHCHECK forms and durations in nanoseconds", () => {
    expect(only("HEALTHCHECK NONE")).toMatchObject({ test: ["NONE"] });
    expect(only("HEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD curl -f http://x/")).toMatchObject({
      test: ["CMD-SHELL", "curl -f http://x/"],
      interval: 90e9,
      timeout: 500e6,
      retries: 3,
    });
    expect(only('HEALTHCHECK CMD ["true"]')).toMatchObject({ test: ["CMD", "true"] });
    expect(errorOf("FROM scratch", "HEALTHCHECK NONE x")).toBe("HEALTHCHECK NONE takes no arguments");
    expect(errorOf("FROM scratch", "HEALTHCHECK --interval=5 CMD x")).toMatch(/invalid duration "5"/);
    expect(errorOf("FROM scratch", "HEALTHCHECK --interval=1ns CMD x")).toMatch(/cannot be less than 1ms/);
    expect(errorOf("FROM scratch", "HEALTHCHECK --retries=-1 CMD x")).toMatch(/cannot be negative/);
    expect(errorOf("FROM scratch", "HEALTHCHECK FOO x")).toMatch(/Unknown type "FOO" in HEALTHCHECK/);
  });

  test("SHELL must be JSON; USER takes one argument", () => {
    expect(errorOf("FROM scratch", "SHELL /bin/sh -c")).toBe("SHELL requires the arguments to be in JSON form");
    expect(errorOf("FROM scratch", "USER")).toBe("USER requires exactly one argument");
    expect(errorOf("FROM scratch", "RUN")).toBe("RUN requires at least one argument");
  });

  test("ONBUILD wraps a typed trigger and refuses ONBUILD, FROM, MAINTAINER", () => {
    expect(only("ONBUILD RUN make")).toMatchObject({ kind: "onbuild", expression: "RUN make", trigger: { kind: "run" } });
    expect(errorOf("FROM scratch", "ONBUILD ONBUILD RUN x")).toMatch(/ONBUILD ONBUILD/);
    expect(errorOf("FROM scratch", "ONBUILD FROM x")).toBe("FROM isn't allowed as an ONBUILD trigger");
    expect(errorOf("FROM scratch", "ONBUILD MAINTAINER x")).toBe("MAINTAINER isn't allowed as an ONBUILD trigger");
  });

  test("stages group instructions; only ARG may precede FROM", () => {
    const p = typed("ARG V=1", "FROM a AS one", "RUN x", "FROM b", "RUN y", "RUN z");
    expect(p.metaArgs).toHaveLength(1);
    expect(p.stages.map((s) => [s.name, s.instructions.length])).toEqual([["one", 1], [undefined, 2]]);
    expect(errorOf("RUN x", "FROM a")).toMatch(/no build stage in current context/);
  });

  test("several bad instructions are all reported", () => {
    const p = typed("FROM scratch", "COPY a", "USER", "SHELL x", "RUN ok");
    expect(errors(p)).toHaveLength(3);
    expect(p.stages[0]!.instructions.map((i) => i.kind)).toEqual(["run"]);
  });
});
