import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// The admin UI's session: a signed token in an HttpOnly cookie, not a server-side record, so any
// pod of the fleet accepts it without shared state. The signing key is derived from the sign-in
// secrets (the master key and UI_PASSWORD: see signingSecret): changing either signs every session
// out. Sign-out is a revocation (SessionRevocations).

export const SESSION_COOKIE = "tandem_session";
export const CSRF_HEADER = "x-csrf-token";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  /** The session's id: what sign-out revokes, and what its CSRF token is bound to. */
  id: string;
  expiresAt: number;
}

const b64 = (bytes: Buffer) => bytes.toString("base64url");

/** What sessions are signed with: every secret that signs in, so changing any of them ends them all. */
export function signingSecret(masterKey: string, uiPassword: string | undefined): string {
  return `${masterKey}\u0000${uiPassword ?? ""}`;
}

function signingKey(secret: string): Buffer {
  return createHmac("sha256", secret).update("tandem admin UI session v1").digest();
}

function mac(secret: string, text: string): string {
  return b64(createHmac("sha256", signingKey(secret)).update(text).digest());
}

/** Equal, compared in constant time whatever the lengths (digests first: no length leaks out). */
function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

export function issueSession(secret: string, now = Date.now()): { token: string; session: Session } {
  const session = { id: b64(randomBytes(18)), expiresAt: now + SESSION_TTL_MS };
  const body = `v1.${session.id}.${session.expiresAt}`;
  return { token: `${body}.${mac(secret, body)}`, session };
}

/** The session a cookie's token carries, or undefined when it is malformed, forged or expired. */
export function verifySession(secret: string, token: string | undefined, now = Date.now()): Session | undefined {
  const parts = token?.split(".");
  if (!parts || parts.length !== 4 || parts[0] !== "v1") return undefined;
  const [, id = "", expires = "", signature = ""] = parts;
  if (!/^[\w-]{16,64}$/.test(id) || !/^\d{1,16}$/.test(expires)) return undefined;
  if (!same(signature, mac(secret, `v1.${id}.${expires}`))) return undefined;
  const expiresAt = Number(expires);
  return expiresAt > now ? { id, expiresAt } : undefined;
}

/** The CSRF token the UI sends with every API call: bound to the session, unknowable to another site. */
export function csrfTokenOf(secret: string, session: Session): string {
  return mac(secret, `csrf.${session.id}`);
}

export function csrfMatches(secret: string, session: Session, sent: string | undefined): boolean {
  return sent !== undefined && same(sent, csrfTokenOf(secret, session));
}

/** Whether a password is the master key. */
export function isMasterKey(masterKey: string, password: string | undefined): boolean {
  return password !== undefined && same(password, masterKey);
}

/** Whether a sign-in is the admin's: the master key (any user name), or UI_USERNAME with UI_PASSWORD. */
export function credentialsValid(
  ui: { username: string; password?: string },
  masterKey: string,
  username: string | undefined,
  password: string | undefined,
): boolean {
  if (!password) return false;
  if (same(password, masterKey)) return true;
  return ui.password !== undefined && same(password, ui.password) && same(username ?? "", ui.username);
}

/** A cookie header's value for `name` (the first), undefined when absent. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
