import type { Instruction, Stage } from "../instructions/types.js";
import { ruleUrl, type Finding, type Rule } from "./rule.js";

function rule(name: string, description: string, check: Rule["check"]): Rule {
  return { name, description, url: ruleUrl(name), check };
}

/** Every instruction of every stage with its stage, ONBUILD triggers excluded. */
function* instructions(stages: readonly Stage[]): Generator<{ stage: Stage; inst: Instruction; index: number }> {
  for (const stage of stages) {
    let index = 0;
    for (const inst of stage.instructions) yield { stage, inst, index: index++ };
  }
}

// BuildKit's secret-name heuristic: a token such as PASSWORD or API_KEY, as a whole word of the name.
const SECRET_TOKENS = /(?:^|_)(?:apikey|auth|credential|credentials|key|password|pass|pword|passwd|secret|token)(?:_|$)/i;
const NOT_SECRET = /(?:^|_)(?:public)(?:_|$)/i;

/** Rules about individual instructions. */
export const COMMAND_RULES: readonly Rule[] = [
  rule("JSONArgsRecommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals", ({ parsed }) => {
    const out: Finding[] = [];
    for (const stage of parsed.stages) {
      // A stage that sets its own SHELL chose shell form on purpose.
      let shellSet = false;
      for (const inst of stage.instructions) {
        if (inst.kind === "shell") shellSet = true;
        if ((inst.kind === "cmd" || inst.kind === "entrypoint") && inst.command.form === "shell" && !shellSet) {
          out.push({ message: `JSON arguments recommended for ${inst.node.keyword} to prevent unintended behavior related to OS signals`, range: inst.range });
        }
      }
    }
    return out;
  }),
  rule("MaintainerDeprecated", "The MAINTAINER instruction is deprecated, use a label instead to define an image author", ({ parsed }) =>
    [...instructions(parsed.stages)]
      .filter(({ inst }) => inst.kind === "maintainer")
      .map(({ inst }) => ({ message: "Maintainer instruction is deprecated in favor of using label", range: inst.range })),
  ),
  rule("MultipleInstructionsDisallowed", "Multiple instructions of the same type should not be used in the same stage", ({ parsed }) => {
    const out: Finding[] = [];
    for (const stage of parsed.stages) {
      for (const kind of ["cmd", "entrypoint", "healthcheck"] as const) {
        const all = stage.instructions.filter((i) => i.kind === kind);
        for (const inst of all.slice(0, -1)) {
          out.push({
            message: `Multiple ${inst.node.keyword} instructions should not be used in the same stage because only the last one will be used`,
            range: inst.range,
          });
        }
      }
    }
    return out;
  }),
  rule("LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used", ({ parsed }) =>
    [...instructions(parsed.stages)].flatMap(({ inst }) =>
      (inst.kind === "env" || inst.kind === "label") && inst.pairs.some((p) => p.legacy)
        ? [{ message: `"${inst.node.keyword} key=value" should be used instead of legacy "${inst.node.keyword} key value" format`, range: inst.range }]
        : [],
    ),
  ),
  rule("ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase", ({ parsed }) =>
    [...instructions(parsed.stages)].flatMap(({ inst }) =>
      inst.kind === "expose"
        ? inst.ports
            .filter((p) => {
              const proto = p.split("/")[1];
              return proto !== undefined && proto !== proto.toLowerCase();
            })
            .map((p) => ({ message: `Defined protocol '${p}' in EXPOSE instruction should be lowercase`, range: inst.range }))
        : [],
    ),
  ),
  rule("ExposeInvalidFormat", "IP address and host-port mapping should not be used in EXPOSE instruction", ({ parsed }) =>
    [...instructions(parsed.stages)].flatMap(({ inst }) =>
      inst.kind === "expose"
        ? inst.ports
            .filter((p) => p.includes(":"))
            .map((p) => ({ message: `EXPOSE instruction should not define an IP address or host-port mapping, found '${p}'`, range: inst.range }))
        : [],
    ),
  ),
  rule("SecretsUsedInArgOrEnv", "Sensitive data should not be used in the ARG or ENV commands", ({ parsed }) => {
    const out: Finding[] = [];
    const check = (name: string, kw: string, range: Finding["range"]): void => {
      if (SECRET_TOKENS.test(name) && !NOT_SECRET.test(name)) {
        out.push({ message: `Do not use ARG or ENV instructions for sensitive data (${kw} "${name}")`, range });
      }
    };
    for (const a of parsed.metaArgs) for (const d of a.args) check(d.key, "ARG", a.range);
    for (const { inst } of instructions(parsed.stages)) {
      if (inst.kind === "arg") for (const d of inst.args) check(d.key, "ARG", inst.range);
      if (inst.kind === "env") for (const p of inst.pairs) check(p.key, "ENV", inst.range);
    }
    return out;
  }),
  rule("WorkdirRelativePath", "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes", ({ resolved }) => {
    const out: Finding[] = [];
    const absoluteSet = new Map<number, boolean>();
    for (const index of resolved.stages.map((s) => s.index)) {
      const stage = resolved.stages.find((s) => s.index === index)!;
      let set = stage.base.kind === "stage" ? (absoluteSet.get(stage.base.stage) ?? false) : false;
      for (const step of stage.steps) {
        const inst = step.instruction;
        if (inst.kind !== "workdir") continue;
        if (inst.path.startsWith("/")) set = true;
        else if (!set) out.push({ message: `Relative workdir '${inst.path}' can have unexpected results if the base image changes`, range: inst.range });
      }
      absoluteSet.set(index, set);
    }
    return out;
  }),
];
