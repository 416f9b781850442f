// Token counts for usage the upstream never reported: a stream the client cut
// short, or one the upstream broke off. The provider bills what it generated,
// so tandem charges the prompt plus the completion streamed so far, counted
// with OpenAI's own BPE encodings (gpt-tokenizer): o200k_base for the GPT-4o
// and o-series families, cl100k_base for GPT-4 / GPT-3.5, and o200k_base for
// any other model (documented: an estimate, marked as one in the spend row).
import { countTokens as countO200k } from "gpt-tokenizer/encoding/o200k_base";
import { countTokens as countCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import type { Usage } from "./spend.js";

const CL100K = /^(gpt-4(?!o|\.\d)|gpt-3\.5|text-embedding-(ada|3))/;

export function encodingFor(model: string): "o200k_base" | "cl100k_base" {
  return CL100K.test(model.replace(/^[\w-]+\//, "")) ? "cl100k_base" : "o200k_base";
}

// Text that spells a special token (`<|endoftext|>`) is counted as the text it is; the tokenizer's
// default refuses it, which would leave such a prompt uncounted (and a cut stream uncharged).
const AS_TEXT = { disallowedSpecial: new Set<string>() };

export function countTextTokens(model: string, text: string): number {
  return encodingFor(model) === "cl100k_base" ? countCl100k(text, AS_TEXT) : countO200k(text, AS_TEXT);
}

// OpenAI's documented chat overhead: about 3 tokens per message plus 3 to prime the reply.
const PER_MESSAGE = 3;
const REPLY_PRIMER = 3;

/** Prompt tokens of a chat request's messages (text parts; other parts are not counted). */
export function promptTokens(model: string, messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let total = REPLY_PRIMER;
  for (const message of messages) {
    const m = message as { role?: unknown; content?: unknown; name?: unknown };
    total += PER_MESSAGE;
    for (const part of [m.role, m.name, ...contentTexts(m.content)]) if (typeof part === "string") total += countTextTokens(model, part);
  }
  return total;
}

function contentTexts(content: unknown): unknown[] {
  if (typeof content === "string") return [content];
  if (Array.isArray(content)) return content.map((p) => (p as { text?: unknown }).text);
  return [];
}

export function estimateUsage(model: string, messages: unknown, completionText: string): Usage {
  const prompt = promptTokens(model, messages);
  const completion = completionText ? countTextTokens(model, completionText) : 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
