import { ruleUrl, type Finding, type Rule } from "./rule.js";

/** Normalises a COPY source to a context-relative path for ignore matching. */
function contextPath(source: string): string {
  const parts: string[] = [];
  for (const part of source.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

/** Rules that need the build context's `.dockerignore`. */
export const CONTEXT_RULES: readonly Rule[] = [
  {
    name: "CopyIgnoredFile",
    description: "Attempting to Copy file that is excluded by .dockerignore",
    url: ruleUrl("CopyIgnoredFile"),
    check: ({ resolved, ignored }) => {
      if (!ignored) return [];
      const out: Finding[] = [];
      for (const stage of resolved.stages) {
        for (const step of stage.steps) {
          const inst = step.instruction;
          if ((inst.kind !== "copy" && inst.kind !== "add") || inst.from !== undefined) continue;
          for (const src of inst.sources) {
            if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src) || /[*?[]/.test(src)) continue;
            const p = contextPath(src);
            if (p !== "" && ignored(p)) {
              const verb = inst.kind === "copy" ? "Copy" : "Add";
              out.push({ message: `Attempting to ${verb} file "${src}" that is excluded by .dockerignore`, range: inst.range });
            }
          }
        }
      }
      return out;
    },
  },
];
