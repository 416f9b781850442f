/**
 * Gathers items and hands them to `flush` together, one call at a time: the
 * first item goes on the next turn of the event loop, and items that arrive
 * while a call is in flight go together in the next one as soon as it
 * returns. A lone request waits for no one; under load the calls grow with
 * the round trip, so Redis answers a few calls, not one per request. `flush`
 * may answer each item (an array in the items' order); every `add` resolves
 * with its own answer, or rejects with its batch.
 */
export class Batcher<T, R = void> {
  private queue: Array<{ item: T; resolve: (answer: R) => void; reject: (error: unknown) => void }> = [];
  private busy = false;

  constructor(private readonly flush: (items: T[]) => Promise<R[] | void>) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.busy) return;
      this.busy = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const answers = await this.flush(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(answers?.[i] as R));
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.busy = false;
  }
}
