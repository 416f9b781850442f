import type { RoutedClient } from "../db/routing-client.js";
import type { Prisma, VirtualKey } from "../generated/prisma/client.js";
import { ApiError } from "./errors.js";
import { maskKey, newVirtualKey, hashKey, toToken } from "./key-hash.js";

export interface GenerateKeyInput {
  models?: string[];
  max_budget?: number | null;
  team_id?: string | null;
  key_alias?: string | null;
  metadata?: Record<string, unknown>;
  duration?: string | null;
}

export function keyView(key: VirtualKey) {
  return {
    token: key.token,
    key_name: key.key_name,
    key_alias: key.key_alias,
    models: key.models,
    max_budget: key.max_budget,
    spend: key.spend,
    team_id: key.team_id,
    metadata: key.metadata,
    created_at: key.created_at.toISOString(),
    expires: key.expires?.toISOString() ?? null,
  };
}

// LiteLLM's duration strings: "30s", "30m", "30h", "30d".
function expiry(duration: string | null | undefined): Date | null {
  if (!duration) return null;
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (!match) throw ApiError.badRequest("duration must look like 30s, 30m, 30h or 30d", "duration");
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "s" | "m" | "h" | "d"];
  const seconds = Number(match[1]) * unit;
  // A hundred years is "forever" for a key; past it the date itself would overflow.
  if (seconds > 100 * 365 * 86400) throw ApiError.badRequest("duration must be at most 100 years (36500d)", "duration");
  return new Date(Date.now() + seconds * 1000);
}

export async function generateKey(db: RoutedClient, input: GenerateKeyInput) {
  if (input.team_id) {
    // Read-your-writes: a team created a moment ago may not be on the replica yet.
    const team = await db.$primary().team.findUnique({ where: { team_id: input.team_id } });
    if (!team) throw ApiError.badRequest(`team_id: team ${input.team_id} does not exist`, "team_id");
  }
  const key = newVirtualKey();
  try {
    const row = await db.virtualKey.create({
      data: {
        token: hashKey(key),
        key_name: maskKey(key),
        key_alias: input.key_alias ?? null,
        models: input.models ?? [],
        max_budget: input.max_budget ?? null,
        team_id: input.team_id ?? null,
        metadata: (input.metadata ?? {}) as Prisma.InputJsonValue,
        expires: expiry(input.duration),
      },
    });
    await db.$consistency.wrote([`key:${row.token}`, ...(row.team_id ? [`team:${row.team_id}`] : [])]);
    return { key, ...keyView(row) };
  } catch (error) {
    if ((error as { code?: string }).code === "P2002") {
      throw ApiError.badRequest(`key_alias: a key with alias ${JSON.stringify(input.key_alias)} already exists`, "key_alias");
    }
    throw error;
  }
}

export async function keyInfo(db: RoutedClient, keyOrToken: string) {
  const token = toToken(keyOrToken);
  db.$consistency.dependOn([`key:${token}`]);
  const row = await db.virtualKey.findUnique({ where: { token } });
  if (!row) throw ApiError.notFound("key not found");
  const { token: _token, ...info } = keyView(row);
  return { key: keyOrToken, info };
}

export async function deleteKeys(db: RoutedClient, keys: string[]) {
  const tokens = keys.map(toToken);
  // In one writer transaction: which exist, and delete them. Reading on the
  // replica here could miss a key created a moment ago.
  const existing = await db.$transaction(async (tx) => {
    const found = await tx.virtualKey.findMany({ where: { token: { in: tokens } }, select: { token: true, team_id: true } });
    await tx.virtualKey.deleteMany({ where: { token: { in: found.map((k) => k.token) } } });
    return found;
  });
  await db.$consistency.wrote(existing.flatMap((k) => [`key:${k.token}`, ...(k.team_id ? [`team:${k.team_id}`] : [])]));
  if (existing.length === 0) throw ApiError.notFound("none of the keys exist");
  const deleted = new Set(existing.map((k) => k.token));
  return { deleted_keys: keys.filter((_, i) => deleted.has(tokens[i] ?? "")) };
}
