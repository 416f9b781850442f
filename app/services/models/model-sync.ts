import type { Logger } from "../../observability/logger.js";
import type { LoadedModels } from "./stored-models.js";

/**
 * Keeps this pod's router serving the models kept in the database. A write on this pod reloads
 * before it answers (the next request here serves it); another pod's write arrives through the
 * fleet's invalidations at once, and by the periodic reload without a Redis or when a message is
 * missed. Reloads never overlap: one asked for during another runs once after it.
 */
export class ModelSync {
  private running: Promise<void> | undefined;
  private again = false;
  private failing = false;

  constructor(
    private readonly load: () => Promise<LoadedModels>,
    private readonly apply: (loaded: LoadedModels) => void,
    private readonly log: Logger,
  ) {}

  /** Resolves once a reload that started after this call has applied (or failed, said in the log). */
  refresh(): Promise<void> {
    if (this.running) {
      // The loop runs once more before the promise it already gave resolves.
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Reloads every `intervalMs` until the returned stop is called. */
  every(intervalMs: number): () => void {
    const timer = setInterval(() => void this.refresh(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        const loaded = await this.load();
        this.apply(loaded);
        if (this.failing) this.log.info("models kept in the database are read again");
        this.failing = false;
      } catch (error) {
        // The database away: the last models read keep serving, and the next reload tries again.
        if (!this.failing)
          this.log.warn({ err: (error as Error).message }, "models kept in the database cannot be read; serving the last ones read");
        this.failing = true;
      }
    } while (this.again);
  }
}
