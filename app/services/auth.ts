import type { RoutedClient } from "../db/routing-client.js";
import type { Team, VirtualKey } from "../generated/prisma/client.js";
import { ApiError } from "./errors.js";
import { hashKey, sameSecret } from "./key-hash.js";

export type Caller = { kind: "master" } | { kind: "key"; key: VirtualKey & { team: Team | null } };

/**
 * Who is calling. Key lookups are reads, so they run on the reader — unless
 * this pod changed the key (created, updated, deleted) more recently than the
 * reader has replayed, when they run on the writer (read-your-writes). A miss
 * on a reader that is caught up is final, so a flood of invalid keys never
 * reaches the writer; a miss on a reader that may be behind a fresh key is
 * confirmed on the writer before answering 401.
 */
export async function authenticate(db: RoutedClient, masterKey: string, authorization: string | undefined): Promise<Caller> {
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? "")?.[1]?.trim();
  if (!bearer) throw ApiError.unauthorized("Authentication error: no API key provided (expected 'Authorization: Bearer sk-...')");
  if (sameSecret(bearer, masterKey)) return { kind: "master" };
  const token = hashKey(bearer);
  db.$consistency.dependOn([`key:${token}`]);
  const query = { where: { token }, include: { team: true } } as const;
  const found = await db.virtualKey.findUnique(query);
  const key = found ?? (db.$consistency.readerMissIsFinal() ? null : await db.$primary().virtualKey.findUnique(query));
  if (!key) throw ApiError.unauthorized("Authentication error: invalid API key");
  if (key.expires && key.expires.getTime() <= Date.now())
    throw ApiError.unauthorized("Authentication error: API key expired", "expired_key");
  return { kind: "key", key };
}

export function requireMaster(caller: Caller): void {
  if (caller.kind !== "master") throw new ApiError(403, "Only the master key can call this endpoint", "auth_error", "forbidden");
}
