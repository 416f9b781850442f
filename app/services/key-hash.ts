import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Virtual keys look like LiteLLM's: `sk-` and 22 url-safe characters (128 random bits). */
export function newVirtualKey(): string {
  return `sk-${randomBytes(16).toString("base64url")}`;
}

/** Keys are stored as their sha256, as LiteLLM does: a database dump reveals no usable key. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** `sk-...a1b2`: enough to recognise a key in a list, useless to an attacker. */
export function maskKey(key: string): string {
  return `${key.slice(0, 3)}...${key.slice(-4)}`;
}

/** A hashed token as accepted in query parameters (LiteLLM accepts either form). */
export function toToken(keyOrToken: string): string {
  return /^[0-9a-f]{64}$/.test(keyOrToken) ? keyOrToken : hashKey(keyOrToken);
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(hashKey(a), "hex");
  const y = Buffer.from(hashKey(b), "hex");
  return timingSafeEqual(x, y);
}
