/**
 * What a request is expected to cost, per key and model: the recent average
 * of what such requests cost on this pod. Budget reservations hold this
 * much while a request runs; with no history there is no estimate.
 */
export class CostEstimates {
  private readonly averages = new Map<string, number>();

  get(costKey: string): number | undefined {
    return this.averages.get(costKey);
  }

  /** A request's actual cost: the next estimate for its key and model moves toward it. */
  observe(costKey: string, cost: number): void {
    const previous = this.averages.get(costKey);
    this.averages.set(costKey, previous === undefined ? cost : 0.8 * previous + 0.2 * cost);
    if (this.averages.size > 100_000) this.averages.delete(this.averages.keys().next().value as string);
  }
}
