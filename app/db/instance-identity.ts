// Which database instance a connection reached. A reader address is often one
// name in front of several replicas (a Kubernetes Service, Aurora's reader
// endpoint, a TCP balancer): every connection may land on another server, so
// state is kept per instance, and a connection is only used for the instance
// it was verified to reach.
import type pg from "pg";
import { parseLsn, type Lsn } from "./lsn.js";
import { urlHost } from "./url.js";

/**
 * The server's own address of this connection (the pod IP and port behind a
 * Service, the replica's port behind a TCP balancer), or Aurora's instance
 * identifier where the function exists. `query_to_xml` keeps the Aurora call
 * from being parsed on servers that lack it, so this is one round trip everywhere.
 */
const IDENTITY_COLUMNS = `host(inet_server_addr()) AS addr, inet_server_port() AS port,
  CASE WHEN to_regproc('aurora_db_instance_identifier') IS NULL THEN NULL
    ELSE (xpath('/row/id/text()', query_to_xml('SELECT aurora_db_instance_identifier() AS id', false, true, '')))[1]::text END AS aurora`;

export const IDENTITY_SQL = `SELECT ${IDENTITY_COLUMNS}`;

/** How far a server has replayed, and whether it is a standby at all. */
const REPLAY_COLUMNS = "pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay";

/** Read-your-writes on demand, on a connection already known to be on the instance. */
export const REPLAY_SQL = `SELECT ${REPLAY_COLUMNS}`;

/** The health cycle's probe of an address: who answered, and how far it has replayed. */
export const INSTANCE_PROBE_SQL = `SELECT ${IDENTITY_COLUMNS}, ${REPLAY_COLUMNS}`;

export interface IdentityRow {
  addr: string | null;
  port: number | null;
  aurora: string | null;
}

export interface ReplayRow {
  standby: boolean;
  replay: string | null;
}

export interface InstanceRow extends IdentityRow, ReplayRow {}

/** One instance: `id` is what connections are matched on, and how logs, readiness and metrics name it. */
export interface InstanceIdentity {
  id: string;
}

/**
 * `fallback` names the instance when the server cannot say (a Unix socket
 * has no server address): the address it was reached through.
 */
export function identityOf(row: IdentityRow, fallback: string): InstanceIdentity {
  if (row.aurora) return { id: row.aurora };
  if (!row.addr) return { id: fallback };
  return { id: `${urlHost(row.addr)}:${row.port ?? ""}` };
}

export interface ReplayPosition {
  /** In recovery (a replica); a server that is not has everything. */
  standby: boolean;
  replay: Lsn | undefined;
}

export function replayOf(row: ReplayRow): ReplayPosition {
  return { standby: row.standby, replay: row.replay ? parseLsn(row.replay) : undefined };
}

export interface InstanceSample extends ReplayPosition {
  identity: InstanceIdentity;
}

export function sampleOf(row: InstanceRow, fallback: string): InstanceSample {
  return { identity: identityOf(row, fallback), ...replayOf(row) };
}

/** A connection through a shared address reached another instance than the one it was opened for. */
export class WrongInstanceError extends Error {
  override name = "WrongInstanceError";
  constructor(
    readonly wanted: string,
    readonly reached: string,
  ) {
    super(`connection reached instance ${reached}, not ${wanted}`);
  }
}

/** Asks a fresh connection who it reached; throws WrongInstanceError if it is not `wanted`. */
export async function verifyInstance(client: pg.Client, wanted: string, fallback: string): Promise<void> {
  const result = await client.query<IdentityRow>(IDENTITY_SQL);
  const reached = identityOf(result.rows[0] ?? { addr: null, port: null, aurora: null }, fallback).id;
  if (reached !== wanted) throw new WrongInstanceError(wanted, reached);
}
