// A process-wide set of secret strings (database passwords, IAM tokens, the
// master key). The logger scrubs every one of them from each line it writes,
// so a secret that leaks into an error message from a driver still never
// reaches the log. Redacting known field names is not enough on its own:
// drivers put connection details into free-text messages.

const secrets = new Set<string>();

// Short values would scrub unrelated text (e.g. a password "a"), and they
// cannot be meaningfully protected by redaction anyway.
const MIN_SECRET_LENGTH = 4;

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

export function forgetSecret(value: string): void {
  secrets.delete(value);
}

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s"']*):([^@\s"']*)@/gi;

/** Replaces registered secrets and the password part of any URL. */
export function scrub(text: string): string {
  let out = text.replace(URL_CREDENTIALS, "$1:****@");
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
    // JSON-encoded lines escape some characters; cover that form too.
    const encoded = JSON.stringify(secret).slice(1, -1);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join("[REDACTED]");
  }
  return out;
}
