import type { SourceRange } from "../diagnostics/source.js";
import type { DockerfileAst } from "../syntax/ast.js";
import type { ParsedDockerfile } from "../instructions/parse.js";
import type { ResolvedDockerfile } from "../instructions/resolve.js";

/** A finding of one rule: where, and the message. */
export interface Finding {
  /** One-line message, in BuildKit's words. */
  readonly message: string;
  /** Where in the Dockerfile. */
  readonly range: SourceRange;
}

/** What rules look at: every stage of the pipeline, plus the build context's ignore rules. */
export interface CheckInput {
  /** The line AST. */
  readonly ast: DockerfileAst;
  /** Typed instructions, as written. */
  readonly parsed: ParsedDockerfile;
  /** Stages resolved with the build args. */
  readonly resolved: ResolvedDockerfile;
  /** Global ARG defaults, ignoring --build-arg (for InvalidDefaultArgInFrom). */
  readonly defaultMetaArgs: ReadonlyMap<string, string | undefined>;
  /** `.dockerignore` matcher of the context, if there is one. */
  readonly ignored?: (path: string) => boolean;
}

/**
 * A build check, as data (BuildKit's `linter/ruleset.go`): its name as
 * BuildKit spells it (so `# check=skip=Name` works the same), a
 * description, its documentation page, and a pure function finding
 * violations.
 */
export interface Rule {
  /** BuildKit's rule name. */
  readonly name: string;
  /** What the rule wants. */
  readonly description: string;
  /** Documentation page. */
  readonly url: string;
  /** Finds every violation. */
  check(input: CheckInput): Finding[];
}

/** BuildKit's documentation URL for a rule name (`JSONArgsRecommended` → `json-args-recommended`). */
export function ruleUrl(name: string): string {
  const kebab = name
    .replace(/JSON/g, "Json")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase();
  return `https://docs.docker.com/go/dockerfile/rule/${kebab}/`;
}
