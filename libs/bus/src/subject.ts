/** NATS subject rules shared by the Bus adapters. */

const TOKEN = /^[^\s.*>]+$/;

/** True when `subject` is a valid publish subject: dot-separated, non-empty tokens, no wildcards. */
export function isPublishSubject(subject: string): boolean {
  return subject.length > 0 && subject.split(".").every((t) => TOKEN.test(t));
}

/** True when `pattern` is a valid subscription: tokens, `*` anywhere, `>` only as the last token. */
export function isSubscribePattern(pattern: string): boolean {
  if (pattern.length === 0) return false;
  const tokens = pattern.split(".");
  return tokens.every((t, i) => TOKEN.test(t) || t === "*" || (t === ">" && i === tokens.length - 1));
}

/** NATS matching: `*` is exactly one token, a trailing `>` is one or more tokens. */
export function subjectMatches(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}
