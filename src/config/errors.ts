// Config problems as data: every issue names the key(s) at fault and, when known, the
// file that set them. A ConfigError carries all issues found, not just the first.

export interface ConfigIssue {
  /** canonical (underscore) keys involved, dotted for nested ones: `optimizer.params.lr` */
  keys: string[];
  /** the whole human sentence, file included where known */
  message: string;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

function formatIssues(issues: ConfigIssue[]): string {
  if (issues.length === 1) return `invalid config: ${issues[0].message}`;
  return [`invalid config (${issues.length} problems):`, ...issues.map((i) => `  - ${i.message}`)].join('\n');
}

/** `"twelve"`, `-3`, `[0.9,1.5]`; long values are cut. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Prefixes a message with the file(s) it concerns: `configs/x.yml: ...`. */
export function inFiles(files: Iterable<string | undefined>, message: string): string {
  const known = [...new Set([...files].filter((f): f is string => Boolean(f)))];
  return known.length ? `${known.join(', ')}: ${message}` : message;
}
