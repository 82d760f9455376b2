// A config problem and its one-line form, without the schema: the commands print issues that the
// config worker found, and must not load zod to do it (issue 15).

/** One problem in a config: where, and what to do about it. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
  /** Where in the file, for problems that have no config path (YAML syntax): "line 3, column 5". */
  location?: string;
}

/** Text from the input as shown in a message: at most `max` characters, the rest marked as cut. */
export function clip(text: string, max = 160): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** `inputs["lane1.up"].line`: dotted where the key is a plain identifier, bracketed otherwise. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg) && seg.length <= 64) out += out ? `.${seg}` : seg;
    else out += `[${clip(JSON.stringify(String(seg)), 64)}]`;
  }
  return out || "(top level)";
}

/** `path: message`, the one line format of every config error; never more than one line. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.location ?? formatPath(issue.path)}: ${clip(issue.message.replace(/[\r\n]+/g, " "), 400)}`;
}

/** All issues as printable lines. */
export function formatIssues(issues: readonly ConfigIssue[]): string[] {
  return issues.map(formatIssue);
}
