/**
 * Gathers the items added during one turn of the event loop and hands them
 * to `flush` together: the Redis writes of many concurrent requests (spend
 * held, rate limits settled) become one command instead of one each. Every
 * `add` resolves or rejects with its batch.
 */
export class Batcher<T> {
  private items: T[] = [];
  private pending: Promise<void> | undefined;

  constructor(private readonly flush: (items: T[]) => Promise<unknown>) {}

  add(item: T): Promise<void> {
    this.items.push(item);
    return (this.pending ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        const items = this.items;
        this.items = [];
        this.pending = undefined;
        this.flush(items).then(() => resolve(), reject);
      });
    }));
  }
}
