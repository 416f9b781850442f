import type { RoutedClient } from "../../db/routing-client.js";
import type { Budget, Organization, Team, TeamMembership, User, VirtualKey } from "../../generated/prisma/client.js";
import { ApiError } from "../errors.js";
import { isHashOf, tokenOf } from "./key-hash.js";
import type { Snapshot } from "../billing/spend-queue.js";
import type { CallerCache } from "./caller-cache.js";
import { requiredLsn } from "../../db/consistency.js";

/** The organization a key's team belongs to, with its budget (read with the key, in the same statement). */
export type OrganizationRecord = Organization & { budget: Budget | null };
export type KeyRecord = VirtualKey & {
  team: (Team & { organization?: OrganizationRecord | null }) | null;
  /** The key's budget tier (LiteLLM's budget_id on a key), read with it. */
  budget?: Budget | null;
};
export type KeyCaller = {
  kind: "key";
  key: KeyRecord;
  user: User | null;
  /** The key's user's membership of the key's team (their budget and spend within it), when there is one. */
  membership?: TeamMembership | null;
  /** For a cached key: when it was read (the replica's position before, and the time); its spend includes no write after that. */
  snapshot?: Snapshot;
};
export type Caller = { kind: "master" } | KeyCaller;

/** The headers LiteLLM takes a key from, in the order it looks at them. */
export interface CredentialHeaders {
  authorization?: string;
  "x-litellm-api-key"?: string;
  "api-key"?: string;
  /** Anthropic's header, which its SDK and Claude Code send. */
  "x-api-key"?: string;
}

export function credentialOf(headers: CredentialHeaders): string | undefined {
  for (const value of [headers.authorization, headers["x-litellm-api-key"], headers["api-key"], headers["x-api-key"]]) {
    const secret = value?.replace(/^Bearer\s+/i, "").trim();
    if (secret) return secret;
  }
  return undefined;
}

/**
 * Who is calling. A key seen a moment ago comes from the cache (no query);
 * otherwise key lookups are reads, so they run on the reader — unless this
 * pod changed the key (created, updated, deleted) more recently than the
 * reader has replayed, when they run on the writer (read-your-writes). A miss
 * on a reader that is caught up is final, so a flood of invalid keys never
 * reaches the writer; a miss on a reader that may be behind a fresh key is
 * confirmed on the writer before answering 401.
 */
export async function authenticate(db: RoutedClient, masterKey: string, secret: string | undefined, cache?: CallerCache): Promise<Caller> {
  if (!secret)
    throw ApiError.unauthorized(
      "Authentication Error, No api key passed in. Send 'Authorization: Bearer sk-...' or 'x-litellm-api-key: sk-...'",
    );
  // One hash of the presented secret serves both the master key check and the key lookup.
  const token = tokenOf(secret);
  if (isHashOf(token, masterKey)) return { kind: "master" };
  db.$consistency.dependOn([`key:${token}`]);
  let caller = cache?.get(token, requiredLsn());
  if (!caller) {
    caller = (await lookUp(db, token)) ?? undefined;
    if (!caller)
      throw ApiError.unauthorized(
        "Authentication Error, Invalid proxy server token passed: key not found. Create keys with /key/generate",
        "token_not_found_in_db",
        "key",
      );
    cache?.set(caller);
  }
  const { key } = caller;
  if (key.expires && key.expires.getTime() <= Date.now())
    throw new ApiError(400, `Authentication Error - Expired Key. Key expired at ${key.expires.toISOString()}`, "expired_key", "key");
  if (key.blocked) throw ApiError.unauthorized("Authentication Error - Key is blocked. The admin can unblock it with /key/unblock");
  if (key.team?.blocked)
    throw ApiError.unauthorized(`Authentication Error - Team ${key.team.team_id} is blocked. The admin can unblock it with /team/unblock`);
  return caller;
}

/** The key with its team and user, read now; null if there is no such key. */
async function lookUp(db: RoutedClient, token: string): Promise<KeyCaller | null> {
  const snapshot: Snapshot = { lsn: db.$consistency.replayedPosition(), at: Date.now() };
  const query = {
    where: { token },
    include: { team: { include: { organization: { include: { budget: true } } } }, budget: true },
    relationLoadStrategy: "join",
  } as const;
  let key = await db.virtualKey.findUnique(query);
  if (!key && !db.$consistency.readerMissIsFinal()) key = await db.$primary().virtualKey.findUnique(query);
  // The key came with its team, its tier and its team's organization, and names its user; if this pod
  // just changed any of them, read them as they are now.
  const related = key ? relatedScopes(key) : [];
  if (key && related.length > 0 && db.$consistency.behind(related)) {
    db.$consistency.dependOn(related);
    key = await db.virtualKey.findUnique(query);
  }
  if (!key) return null;
  const { user_id: userId, team_id: teamId } = key;
  const [user, membership] = await Promise.all([
    userId ? db.user.findUnique({ where: { user_id: userId } }) : null,
    userId && teamId ? db.teamMembership.findUnique({ where: { team_id_user_id: { team_id: teamId, user_id: userId } } }) : null,
  ]);
  return { kind: "key", key, user, membership, snapshot };
}

/** The read-your-writes scopes of what a key's lookup reads with it. */
function relatedScopes(key: KeyRecord): string[] {
  const org = key.team?.organization;
  return [
    ...(key.team_id ? [`team:${key.team_id}`] : []),
    ...(key.user_id ? [`user:${key.user_id}`] : []),
    ...(key.budget_id ? [`budget:${key.budget_id}`] : []),
    ...(org ? [`organization:${org.organization_id}`, ...(org.budget_id ? [`budget:${org.budget_id}`] : [])] : []),
  ];
}
