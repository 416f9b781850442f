/**
 * Gathers the items added during one turn of the event loop and hands them
 * to `flush` together: the Redis calls of many concurrent requests (rate
 * limits admitted and settled, spend held) become one command instead of
 * one each. `flush` may answer each item (an array in the items' order);
 * every `add` resolves with its own answer, or rejects with its batch.
 */
export class Batcher<T, R = void> {
  private items: T[] = [];
  private pending: Promise<R[] | void> | undefined;

  constructor(private readonly flush: (items: T[]) => Promise<R[] | void>) {}

  async add(item: T): Promise<R> {
    const index = this.items.push(item) - 1;
    this.pending ??= new Promise<R[] | void>((resolve, reject) => {
      setImmediate(() => {
        const items = this.items;
        this.items = [];
        this.pending = undefined;
        this.flush(items).then(resolve, reject);
      });
    });
    const answers = await this.pending;
    return answers?.[index] as R;
  }
}
