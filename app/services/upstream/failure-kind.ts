import type { FallbackKind } from "./model-router.js";

/**
 * A 400 that another model group may not give: the prompt is longer than this model's context
 * window, or the provider's content policy refused it (LiteLLM's two special fallback lists). Read
 * from the providers' error codes and, for those that send none, their messages.
 */
export function fallbackKindOf(status: number, failureText: string): FallbackKind | undefined {
  if (status !== 400 && status !== 413 && status !== 422) return undefined;
  if (CONTEXT_WINDOW.test(failureText)) return "context_window";
  if (CONTENT_POLICY.test(failureText)) return "content_policy";
  return undefined;
}
const CONTEXT_WINDOW =
  /context_length_exceeded|maximum context length|context window|prompt is too long|input is too long|too many (input )?tokens|exceeds the (model's )?(maximum|context)/i;
const CONTENT_POLICY =
  /content_policy_violation|content_filter|content management policy|responsibleaipolicyviolation|safety (system|policy)/i;
