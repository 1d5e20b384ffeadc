import { describe, expect, test } from "vitest";
import { checkDockerfile, RULES } from "../../../src/check/check.js";

const opts = { platform: { os: "linux", architecture: "amd64" }, buildPlatform: { os: "linux", architecture: "amd64" } };

function codes(text: string, extra: Parameters<typeof checkDockerfile>[1] = {}): string[] {
  return checkDockerfile({ path: "Dockerfile", text }, { ...opts, ...extra }).diagnostics.map((d) => d.code);
}

// Each rule: a Dockerfile that breaks it and one that does not (BuildKit's
// docs/rules/<rule>.md "Examples" give the bad/good pairs these follow).
const cases: [rule: string, bad: string, good: string][] = [
  ["StageNameCasing", "FROM scratch AS BuilderBase\n", "FROM scratch AS builder-base\n"],
  ["FromAsCasing", "FROM scratch as build\n", "FROM scratch AS build\n"],
  ["DuplicateStageName", "FROM scratch AS a\nFROM scratch AS a\n", "FROM scratch AS a\nFROM scratch AS b\n"],
  ["ReservedStageName", "FROM scratch AS scratch\n", "FROM scratch AS base\n"],
  ["ConsistentInstructionCasing", "FROM scratch\nrun true\nRUN true\n", "FROM scratch\nRUN true\nRUN true\n"],
  ["NoEmptyContinuation", "FROM scratch\nRUN a \\\n\n b\n", "FROM scratch\nRUN a \\\n b\n"],
  ["JSONArgsRecommended", "FROM scratch\nCMD my-app\n", 'FROM scratch\nCMD ["my-app"]\n'],
  ["MaintainerDeprecated", "FROM scratch\nMAINTAINER me\n", 'FROM scratch\nLABEL org.opencontainers.image.authors="me"\n'],
  ["MultipleInstructionsDisallowed", 'FROM scratch\nCMD ["a"]\nCMD ["b"]\n', 'FROM scratch\nCMD ["b"]\n'],
  ["LegacyKeyValueFormat", "FROM scratch\nENV A b\n", "FROM scratch\nENV A=b\n"],
  ["ExposeProtoCasing", "FROM scratch\nEXPOSE 80/TCP\n", "FROM scratch\nEXPOSE 80/tcp\n"],
  ["ExposeInvalidFormat", "FROM scratch\nEXPOSE 127.0.0.1:80:80\n", "FROM scratch\nEXPOSE 80\n"],
  ["SecretsUsedInArgOrEnv", "FROM scratch\nARG AWS_SECRET_KEY\n", "FROM scratch\nARG PUBLIC_KEY_PATH\n"],
  ["WorkdirRelativePath", "FROM scratch\nWORKDIR app\n", "FROM scratch\nWORKDIR /app\nWORKDIR sub\n"],
  ["UndefinedVar", "FROM scratch\nENV PATH=$PAHT\n", "FROM scratch\nARG PAHT=x\nENV PATH=$PAHT\n"],
  ["UndefinedArgInFrom", "FROM busybox:${VERSION}\n", "ARG VERSION=1\nFROM busybox:${VERSION}\n"],
  ["InvalidDefaultArgInFrom", "ARG TAG\nFROM busybox:${TAG}\n", "ARG TAG=latest\nFROM busybox:${TAG}\n"],
  ["RedundantTargetPlatform", "FROM --platform=$TARGETPLATFORM scratch\n", "FROM --platform=$BUILDPLATFORM scratch\n"],
  ["FromPlatformFlagConstDisallowed", "FROM --platform=linux/amd64 scratch AS build\n", "FROM --platform=linux/amd64 scratch AS build-amd64\n"],
];

describe("build checks", () => {
  test("every implemented rule has a case here", () => {
    const tested = new Set(cases.map((c) => c[0]));
    expect(RULES.map((r) => r.name).filter((n) => !tested.has(n))).toEqual(["CopyIgnoredFile"]);
  });

  test.each(cases)("%s", (rule, bad, good) => {
    expect(codes(bad)).toContain(rule);
    expect(codes(good)).not.toContain(rule);
    // Every finding links to the rule's documentation.
    const d = checkDockerfile({ path: "Dockerfile", text: bad }, opts).diagnostics.find((x) => x.code === rule)!;
    expect(d.severity).toBe("warning");
    expect(d.url).toMatch(/^https:\/\/docs\.docker\.com\/go\/dockerfile\/rule\/[a-z-]+\/$/);
    expect(d.range).toBeDefined();
  });

  test("CopyIgnoredFile uses the context's ignore rules, and only for context sources", () => {
    const ignored = (p: string): boolean => p === "secret.txt";
    expect(codes("FROM scratch\nCOPY ./secret.txt /\n", { ignored })).toContain("CopyIgnoredFile");
    expect(codes("FROM scratch AS a\nFROM scratch\nCOPY --from=a secret.txt /\n", { ignored })).not.toContain("CopyIgnoredFile");
    expect(codes("FROM scratch\nCOPY app.txt /\n", { ignored })).not.toContain("CopyIgnoredFile");
  });

  test("UndefinedVar suggests a close name and stays quiet when the base image's ENV is unknown", () => {
    const d = checkDockerfile({ path: "Dockerfile", text: "FROM scratch\nARG VERSION=1\nWORKDIR /$VERSOIN\n" }, opts).diagnostics;
    expect(d.find((x) => x.code === "UndefinedVar")?.message).toBe("Usage of undefined variable '$VERSOIN' (did you mean $VERSION?)");
    expect(codes("FROM golang\nWORKDIR $GOPATH\n")).not.toContain("UndefinedVar");
    expect(codes("FROM golang\nWORKDIR $GOPATH\n", { imageEnv: () => ["PATH=/bin"] })).toContain("UndefinedVar");
  });

  test("# check=skip= turns rules off, skip=all turns all off, error=true makes findings errors", () => {
    const bad = "FROM scratch as build\nMAINTAINER me\n";
    expect(codes(`# check=skip=FromAsCasing\n${bad}`)).toEqual(["MaintainerDeprecated"]);
    expect(codes(`# check=skip=all\n${bad}`)).toEqual([]);
    const strict = checkDockerfile({ path: "Dockerfile", text: `# check=error=true\n${bad}` }, opts).diagnostics;
    expect(strict.map((d) => d.severity)).toEqual(["error", "error"]);
    // The BUILDKIT_DOCKERFILE_CHECK build arg overrides the directive, as in BuildKit.
    expect(codes(`# check=skip=all\n${bad}`, { buildArgs: { BUILDKIT_DOCKERFILE_CHECK: "skip=MaintainerDeprecated" } })).toEqual(["FromAsCasing"]);
  });

  test("unused build args and external syntax frontends are reported as warnings", () => {
    expect(codes("FROM scratch\n", { buildArgs: { NOPE: "1" } })).toEqual(["UnusedBuildArg"]);
    expect(codes("# syntax=docker/dockerfile:1.7\nFROM scratch\n")).toEqual([]);
    expect(codes("# syntax=example.com/my-frontend\nFROM scratch\n")).toEqual(["DF_SYNTAX"]);
  });

  test("every stage of the frontend contributes: syntax, typing and resolution errors in one run", () => {
    const r = checkDockerfile({ path: "Dockerfile", text: "FROM scratch\nRUNN x\nCOPY --form=a b c\nWORKDIR ${X:?needed}\n" }, opts);
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toEqual(["DF_UNKNOWN_INSTRUCTION", "DF_FLAG", "DF_EXPANSION"]);
  });
});
