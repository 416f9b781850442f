import { pino, type Logger, type DestinationStream } from "pino";
import { scrub } from "./secrets.js";

export type { Logger };

// Field names that carry credentials anywhere in a log object.
const REDACT_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "headers.authorization",
  "connectionString",
  "*.connectionString",
  "masterKey",
  "*.masterKey",
  "api_key",
  "*.api_key",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "tandem" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      // Last line of defence: whatever ends up in the serialized line, known
      // secrets and URL passwords are replaced before it is written.
      hooks: { streamWrite: scrub },
    },
    // Synchronous: an async destination can stall for good after a burst into
    // a pipe (container stdout), silently dropping every later line — the
    // shutdown lines included (pino#1562, sonic-boom#162).
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
