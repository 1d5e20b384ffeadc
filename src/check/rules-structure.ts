import type { InstructionNode } from "../syntax/ast.js";
import { ruleUrl, type Finding, type Rule } from "./rule.js";

function rule(name: string, description: string, check: Rule["check"]): Rule {
  return { name, description, url: ruleUrl(name), check };
}

const casing = (s: string): "upper" | "lower" | "mixed" => (s === s.toUpperCase() ? "upper" : s === s.toLowerCase() ? "lower" : "mixed");

/** Rules about stages and the casing of keywords. */
export const STRUCTURE_RULES: readonly Rule[] = [
  rule("StageNameCasing", "Stage names should be lowercase", ({ parsed }) =>
    parsed.stages.flatMap((s) => {
      const written = s.from.node.args[2];
      return written && written !== written.toLowerCase() && s.from.stageNameRange
        ? [{ message: `Stage name '${written}' should be lowercase`, range: s.from.stageNameRange }]
        : [];
    }),
  ),
  rule("FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword", ({ parsed }) =>
    parsed.stages.flatMap((s) => {
      const as = s.from.node.args[1];
      if (s.from.node.args.length !== 3 || !as) return [];
      const from = s.from.node.keywordText;
      const f = casing(from);
      const a = casing(as);
      return (f === "upper" && a !== "upper") || (f === "lower" && a !== "lower")
        ? [{ message: `'${as}' and '${from}' keywords' casing do not match`, range: s.from.range }]
        : [];
    }),
  ),
  rule("DuplicateStageName", "Stage names should be unique", ({ parsed }) => {
    const seen = new Set<string>();
    return parsed.stages.flatMap((s) => {
      if (!s.name) return [];
      if (seen.has(s.name)) return [{ message: `Duplicate stage name '${s.name}', stage names should be unique`, range: s.from.range }];
      seen.add(s.name);
      return [];
    });
  }),
  rule("ReservedStageName", "Reserved words should not be used as stage names", ({ parsed }) =>
    parsed.stages.flatMap((s) =>
      s.name === "scratch" || s.name === "context"
        ? [{ message: `'${s.name}' is reserved and should not be used as a stage name`, range: s.from.range }]
        : [],
    ),
  ),
  rule("ConsistentInstructionCasing", "All commands within the Dockerfile should use the same casing (either upper or lower)", ({ ast }) => {
    let upper = 0;
    let lower = 0;
    for (const n of ast.instructions) {
      const c = casing(n.keywordText);
      if (c === "upper") upper++;
      else if (c === "lower") lower++;
    }
    const majority = lower > upper ? "lowercase" : "uppercase";
    const out: Finding[] = [];
    const visit = (n: InstructionNode): void => {
      const c = casing(n.keywordText);
      if (c === "mixed" || (majority === "uppercase" && c === "lower") || (majority === "lowercase" && c === "upper")) {
        out.push({ message: `Command '${n.keywordText}' should match the case of the command majority (${majority})`, range: n.keywordRange });
      }
      if (n.onbuild) visit(n.onbuild);
    };
    ast.instructions.forEach(visit);
    return out;
  }),
  rule("NoEmptyContinuation", "Empty continuation lines will become errors in a future release", ({ ast }) =>
    ast.instructions.filter((n) => n.hasEmptyContinuation).map((n) => ({ message: "Empty continuation line", range: n.range })),
  ),
];
