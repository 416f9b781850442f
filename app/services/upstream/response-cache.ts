/**
 * Answers kept for identical requests (LiteLLM's `litellm_settings.cache`):
 * in each pod's memory, or in the fleet's Redis. A lookup never fails a
 * request: a cache that cannot answer is a miss.
 */
export interface ResponseCache {
  get(key: string): Promise<string | undefined>;
  /** Keeps `value` for `ttlMs`; fire and forget. */
  set(key: string, value: string, ttlMs: number): void;
}

/** One pod's answers, oldest dropped first past `maxBytes`. */
export class MemoryResponseCache implements ResponseCache {
  private readonly entries = new Map<string, { value: string; expires: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: string, ttlMs: number): void {
    if (value.length > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
    this.bytes += value.length;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.value.length;
  }
}
