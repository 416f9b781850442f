/**
 * `work`, or `timeoutError()` once `ms` pass without an answer. The work is
 * abandoned, not cancelled: its own bound (a pool's query timeout) ends it,
 * and its late failure is swallowed here.
 */
export function withDeadline<T>(work: PromiseLike<T>, ms: number, timeoutError: () => Error): Promise<T> {
  const running = Promise.resolve(work);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  running.catch(() => undefined);
  return Promise.race([running, late]).finally(() => clearTimeout(timer));
}
