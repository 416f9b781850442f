/** Where a zod issue is, written as in a YAML or JSON document: `model_list[0].litellm_params.model`, `fallbacks[1]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
}
