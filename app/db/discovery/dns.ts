import { promises as dns } from "node:dns";
import { isIP } from "node:net";
import { withDeadline } from "../deadline.js";
import type { DiscoverySource, Target } from "./source.js";

/**
 * Every A and AAAA record of the reader address's host name (a headless
 * Service, round-robin DNS, Aurora's reader endpoint as resolved from here),
 * looked up again at each health cycle. With `servers` given, those DNS
 * servers are asked directly; otherwise the system's resolver (search
 * domains and /etc/hosts included, as a pod resolves a Service's short name).
 */
export class DnsSource implements DiscoverySource {
  readonly kind = "dns";
  readonly complete = false;
  private readonly resolver: dns.Resolver | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    servers: readonly string[] = [],
    private readonly timeoutMs = 2000,
  ) {
    if (servers.length > 0) {
      this.resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
      this.resolver.setServers([...servers]);
    }
  }

  async targets(): Promise<readonly Target[]> {
    if (isIP(this.host)) return [{ host: this.host, port: this.port }];
    // getaddrinfo has no timeout of its own: bound it, so a stuck resolver cannot hold the health cycle.
    const addresses = this.resolver
      ? await this.resolveWith(this.resolver)
      : await withDeadline(
          dns.lookup(this.host, { all: true }).then((all) => all.map((a) => a.address)),
          this.timeoutMs,
          () => new Error(`no answer resolving ${this.host} within ${this.timeoutMs} ms`),
        );
    return [...new Set(addresses)].sort().map((host) => ({ host, port: this.port }));
  }

  private async resolveWith(resolver: dns.Resolver): Promise<string[]> {
    const none = (error: unknown): string[] => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENODATA" || code === "ENOTFOUND") return [];
      throw error;
    };
    const [v4, v6] = await Promise.all([resolver.resolve4(this.host).catch(none), resolver.resolve6(this.host).catch(none)]);
    if (v4.length + v6.length === 0) throw new Error(`${this.host} has no A or AAAA record`);
    return [...v4, ...v6];
  }

  close(): void {}
}
