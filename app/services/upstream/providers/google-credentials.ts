// A Vertex AI deployment's Google identity: a service account key (LiteLLM's vertex_credentials, or
// the file GOOGLE_APPLICATION_CREDENTIALS names) exchanged for an OAuth access token with a signed
// JWT (RFC 7523) at the key's own token_uri, as Google's Python library (LiteLLM's) does. Google's
// Node library fixes the token address, so a key pointing elsewhere (a private endpoint, a test's
// token server) could not be honoured with it.
import { createSign } from "node:crypto";
import type { ServiceAccountKey } from "../../../config/google-key.js";

const SCOPE = "https://www.googleapis.com/auth/cloud-platform";
// A token is renewed this long before it expires, so no request carries one about to lapse.
const RENEW_BEFORE_MS = 5 * 60_000;

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

/** The signed assertion the token endpoint takes: this account, asking for Cloud Platform access, for an hour. */
export function signedAssertion(key: ServiceAccountKey, nowMs = Date.now()): string {
  const iat = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", ...(key.private_key_id ? { kid: key.private_key_id } : {}) }));
  const claims = base64url(JSON.stringify({ iss: key.client_email, scope: SCOPE, aud: key.token_uri, iat, exp: iat + 3600 }));
  const signature = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(key.private_key);
  return `${header}.${claims}.${base64url(signature)}`;
}

type Token = { value: string; expiresAt: number };
const holders = new Map<string, () => Promise<string>>();

/**
 * An access token for the key, asked for once and again only near its expiry (not per request),
 * shared by every deployment with the same account. A failed ask is not kept: the next call asks again.
 */
export function googleAccessToken(key: ServiceAccountKey): () => Promise<string> {
  const id = `${key.client_email}\0${key.token_uri}\0${key.private_key_id ?? ""}`;
  let holder = holders.get(id);
  if (!holder) {
    let current: Promise<Token> | undefined;
    holder = async () => {
      const token = await current?.catch(() => undefined);
      if (token && token.expiresAt - Date.now() > RENEW_BEFORE_MS) return token.value;
      current = exchange(key);
      return (await current).value;
    };
    holders.set(id, holder);
  }
  return holder;
}

async function exchange(key: ServiceAccountKey): Promise<Token> {
  const res = await fetch(key.token_uri, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: signedAssertion(key) }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
  if (!res.ok || typeof body.access_token !== "string")
    throw new Error(`Google's token endpoint refused ${key.client_email}'s key (${res.status} ${String(body.error ?? "")})`.trim());
  const lifetimeS = typeof body.expires_in === "number" ? body.expires_in : 3600;
  return { value: body.access_token, expiresAt: Date.now() + lifetimeS * 1000 };
}
