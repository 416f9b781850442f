/**
 * Runs `work` after `firstMs`, then `intervalMs` after each run has ended (so
 * two runs never overlap), until the returned function is called. The timers
 * never keep the process alive. `work` handles its own failures.
 */
export function every(intervalMs: number, work: () => Promise<void>, firstMs = intervalMs): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const next = (ms: number) => {
    timer = setTimeout(() => void work().finally(() => !stopped && next(intervalMs)), ms).unref();
  };
  next(firstMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
