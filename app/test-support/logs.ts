import { Writable } from "node:stream";
import { createLogger, type Logger } from "../observability/logger.js";

export interface CapturedLogs {
  logger: Logger;
  lines: string[];
  /** Parsed `msg` fields. */
  messages(): string[];
  flush(): Promise<void>;
}

/** A real logger (same redaction as production) writing into memory. */
export function captureLogs(level = "debug"): CapturedLogs {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  const logger = createLogger(level, sink);
  return {
    logger,
    lines,
    messages: () => lines.map((l) => (JSON.parse(l) as { msg?: string }).msg ?? ""),
    flush: () => new Promise((resolve) => setImmediate(resolve)),
  };
}
