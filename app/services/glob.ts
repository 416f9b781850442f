/** LiteLLM's model-name wildcards (`*`, `anthropic/*`) as a regular expression; each `*` captures what it matched. */
export function globRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join("(.*)")}$`,
  );
}
