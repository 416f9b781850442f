import { readFileSync, statSync } from "node:fs";

export type UnreadableListener = (variable: string, error: Error) => void;

// Files are described in config, before a logger or metrics exist; whoever
// runs the server listens here (logs once per episode, counts each episode).
const unreadableListeners = new Set<UnreadableListener>();

export function onSecretFileUnreadable(listener: UnreadableListener): () => void {
  unreadableListeners.add(listener);
  return () => unreadableListeners.delete(listener);
}

/** A file that cannot be read, or whose content is not what the variable needs. Never quotes the content. */
export class SecretFileError extends Error {
  override name = "SecretFileError";
}

/**
 * A value kept in a file, the Kubernetes way of handing a process a Secret
 * (`*_FILE` variables over a mounted volume). kubelet swaps the file when the
 * Secret changes, so the value is read again whenever the file's modification
 * time, size or inode moves. At start a bad file is an error naming the
 * variable; at run time it keeps the last good value and tells the
 * `onSecretFileUnreadable` listeners once per episode, so a half-written or
 * briefly missing Secret never takes the service down.
 */
export class SecretFile<T = string> {
  private value: T;
  private stamp: string;
  private failing = false;
  private checkedAt = 0;

  /** `recheckMs`: for a value asked for on every request, look at the file at most this often. */
  constructor(
    readonly path: string,
    readonly variable: string,
    private readonly parse: (content: string) => T = (content) => content as T,
    private readonly recheckMs = 0,
  ) {
    const first = this.read();
    this.value = first.value;
    this.stamp = first.stamp;
  }

  /** The file's current value, or the last good one while it cannot be read or parsed. */
  current(): T {
    if (this.recheckMs > 0) {
      const now = Date.now();
      if (now - this.checkedAt < this.recheckMs) return this.value;
      this.checkedAt = now;
    }
    try {
      if (stampOf(this.path) !== this.stamp) {
        const next = this.read();
        this.value = next.value;
        this.stamp = next.stamp;
      }
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        const problem = error instanceof Error ? error : new Error(String(error));
        for (const listener of unreadableListeners) listener(this.variable, problem);
      }
      this.failing = true;
    }
    return this.value;
  }

  private read(): { value: T; stamp: string } {
    let raw: string;
    let stamp: string;
    try {
      stamp = stampOf(this.path);
      raw = readFileSync(this.path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      throw new SecretFileError(`${this.variable} names a file that cannot be read (${code}: ${this.path})`);
    }
    const content = raw.trim();
    if (content === "") throw new SecretFileError(`${this.variable} names an empty file (${this.path})`);
    return { value: this.parse(content), stamp };
  }
}

function stampOf(path: string): string {
  const stat = statSync(path);
  return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
}
