/**
 * LiteLLM's model-name wildcards (`*`, `anthropic/*`, `gpt-*-mini`): whether
 * `text` matches `pattern`, and what its first `*` matched (undefined: no
 * match). Matched without regular expressions, in time linear in the
 * lengths: patterns come from key and team model lists that users may set,
 * so no pattern may make matching slow.
 */
export function globMatch(pattern: string, text: string): string | undefined {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === text ? "" : undefined;
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return undefined;
  // Each middle part at its leftmost place after the previous one: if any placement works, that one does.
  let at = first.length;
  const end = text.length - last.length;
  let firstStarEnd = parts.length === 2 ? end : -1;
  for (const part of parts.slice(1, -1)) {
    const found = text.indexOf(part, at);
    if (found < 0 || found + part.length > end) return undefined;
    if (firstStarEnd < 0) firstStarEnd = found;
    at = found + part.length;
  }
  return text.slice(first.length, firstStarEnd);
}
