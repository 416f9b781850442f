import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Virtual keys look like LiteLLM's: `sk-` and 22 url-safe characters (128 random bits). */
export function newVirtualKey(): string {
  return `sk-${randomBytes(16).toString("base64url")}`;
}

/** Keys are stored as their sha256, as LiteLLM does: a database dump reveals no usable key. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** The hashes of the secrets presented lately: the same few keys call again and again, and a hash per request is measurable. */
const presented = new Map<string, string>();
const PRESENTED_LIMIT = 4096;

/** `hashKey` for a presented secret, remembered for the next request with it (bounded: a flood of made-up keys only empties it). */
export function tokenOf(secret: string): string {
  let token = presented.get(secret);
  if (token === undefined) {
    if (presented.size >= PRESENTED_LIMIT) presented.clear();
    token = hashKey(secret);
    presented.set(secret, token);
  }
  return token;
}

/** `sk-...a1b2`: enough to recognise a key in a list, useless to an attacker. */
export function maskKey(key: string): string {
  return `${key.slice(0, 3)}...${key.slice(-4)}`;
}

/** A hashed token as accepted in query parameters (LiteLLM accepts either form). */
export function toToken(keyOrToken: string): string {
  return /^[0-9a-f]{64}$/.test(keyOrToken) ? keyOrToken : hashKey(keyOrToken);
}

/** The last secret `isHashOf` hashed: the master key, asked about on every request. */
let remembered: { secret: string; digest: Buffer } | undefined;

/** Whether `token` (a key's hash) is the hash of `secret`, compared in constant time. */
export function isHashOf(token: string, secret: string): boolean {
  if (remembered?.secret !== secret) remembered = { secret, digest: Buffer.from(hashKey(secret), "hex") };
  const digest = Buffer.from(token, "hex");
  return digest.length === remembered.digest.length && timingSafeEqual(digest, remembered.digest);
}
