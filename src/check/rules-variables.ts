import { expandWord } from "../instructions/expand/index.js";
import { isValidReference } from "../registry/reference.js";
import { ruleUrl, type Finding, type Rule } from "./rule.js";

function rule(name: string, description: string, check: Rule["check"]): Rule {
  return { name, description, url: ruleUrl(name), check };
}

const didYouMean = (s: string | undefined): string => (s ? ` (did you mean $${s}?)` : "");

/** Rules about variables and FROM lines. */
export const VARIABLE_RULES: readonly Rule[] = [
  rule("UndefinedVar", "Variables should be defined before their use", ({ resolved }) =>
    resolved.undefinedVariables
      .filter((u) => !u.inFrom)
      .map((u) => ({ message: `Usage of undefined variable '$${u.name}'${didYouMean(u.suggestion)}`, range: u.range })),
  ),
  rule("UndefinedArgInFrom", "FROM command must use declared ARGs", ({ resolved }) =>
    resolved.undefinedVariables
      .filter((u) => u.inFrom)
      .map((u) => ({ message: `FROM argument '${u.name}' is not declared${didYouMean(u.suggestion)}`, range: u.range })),
  ),
  rule("InvalidDefaultArgInFrom", "Default value for global ARG results in an empty or invalid base image name", ({ parsed, defaultMetaArgs }) => {
    const out: Finding[] = [];
    for (const stage of parsed.stages) {
      const from = stage.from;
      if (!from.image.includes("$")) continue;
      let image: string;
      try {
        image = expandWord(from.image, { escapeChar: parsed.escapeChar, lookup: (n) => defaultMetaArgs.get(n) }).value;
      } catch {
        continue;
      }
      // A FROM naming another stage is not an image reference.
      if (parsed.stages.some((s) => s.name !== undefined && s.name === image.toLowerCase()) || image.toLowerCase() === "scratch") continue;
      if (image === "" || !isValidReference(image)) {
        out.push({ message: `Default value for ARG ${from.image} results in empty or invalid base image name`, range: from.range });
      }
    }
    return out;
  }),
  rule("RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior", ({ parsed }) =>
    parsed.stages.flatMap((s) => {
      const p = s.from.platform;
      return p === "$TARGETPLATFORM" || p === "${TARGETPLATFORM}"
        ? [{ message: `Setting platform to predefined ${p} in FROM is redundant as this is the default behavior`, range: s.from.range }]
        : [];
    }),
  ),
  rule("FromPlatformFlagConstDisallowed", "FROM --platform flag should not use a constant value", ({ parsed }) =>
    parsed.stages.flatMap((s) => {
      const p = s.from.platform;
      if (p === undefined || p.includes("$")) return [];
      // A stage named after its platform (build-arm64) pins it on purpose.
      const arch = p.split("/")[1];
      if (arch && s.name?.includes(arch)) return [];
      return [{ message: `FROM --platform flag should not use constant value "${p}"`, range: s.from.range }];
    }),
  ),
];
