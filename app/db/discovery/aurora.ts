import type { DiscoverySource, Target } from "./source.js";

/**
 * The reader instances of an Aurora cluster, from its own topology
 * (`aurora_replica_status()`, asked on the writer, which always has it):
 * every instance that is not the writer and has reported within five
 * minutes, at its instance endpoint — the pattern with `?` replaced by the
 * instance identifier, e.g. `?.abc123xyz.us-east-1.rds.amazonaws.com`.
 * Aurora's reader endpoint picks one instance per DNS lookup; this lists
 * them all, so each is probed, balanced and ejected on its own, and one
 * added by auto scaling is found at the next health cycle.
 */
export class AuroraTopologySource implements DiscoverySource {
  readonly kind = "aurora";
  readonly complete = true;

  constructor(
    private readonly pattern: string,
    private readonly port: number,
    private readonly queryWriter: (sql: string) => Promise<Array<{ server_id: string; writer: boolean }>>,
  ) {}

  async targets(): Promise<readonly Target[]> {
    const rows = await this.queryWriter(TOPOLOGY_SQL);
    return rows
      .filter((row) => !row.writer && /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(row.server_id))
      .map((row) => ({ host: this.pattern.replace("?", row.server_id), port: this.port, label: row.server_id }))
      .sort((a, b) => a.host.localeCompare(b.host));
  }

  close(): void {}
}

const TOPOLOGY_SQL = `SELECT server_id, session_id = 'MASTER_SESSION_ID' AS writer FROM aurora_replica_status()
  WHERE session_id = 'MASTER_SESSION_ID' OR last_update_timestamp IS NULL OR last_update_timestamp > now() - interval '5 minutes'`;

/**
 * The instance endpoint pattern for an Aurora cluster endpoint: the
 * cluster's reader (`<name>.cluster-ro-<id>.<region>.rds.amazonaws.com`) or
 * writer endpoint names its instances `<instance>.<id>.<region>.rds.amazonaws.com`.
 * Undefined for any other host (the pattern must then be given).
 */
export function instancePatternOf(host: string): string | undefined {
  const match = /^[^.]+\.cluster-(?:ro-|custom-)?([a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com(?:\.cn)?)$/i.exec(host);
  return match ? `?.${match[1]}` : undefined;
}
