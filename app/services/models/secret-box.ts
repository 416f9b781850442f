import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** What marks a sealed value, so a plain one (written by hand, or before sealing) is told apart. */
const PREFIX = "tandem-sealed:v1:";

/** The value was sealed under another key (LITELLM_SALT_KEY or the master key changed), or was altered. */
export class SecretUnreadable extends Error {
  override name = "SecretUnreadable";
}

/**
 * Seals upstream secrets kept in the database (a model's api_key) with AES-256-GCM, as LiteLLM
 * encrypts them under LITELLM_SALT_KEY, else the master key: a database dump or a replica's
 * disk does not hold a usable provider key, and a changed row is refused, not used.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(passphrase: string) {
    // One fixed-length key from whatever the operator chose; the passphrase is already a secret.
    this.key = createHash("sha256").update(`tandem secret box\0${passphrase}`).digest();
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  /** A sealed value's plain text; a value that was never sealed is returned as it is. */
  open(value: string): string {
    if (!value.startsWith(PREFIX)) return value;
    const raw = Buffer.from(value.slice(PREFIX.length), "base64url");
    if (raw.length < 28) throw new SecretUnreadable("a sealed value is truncated");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretUnreadable("a sealed value cannot be opened with this LITELLM_SALT_KEY (or master key): it was sealed under another");
    }
  }

  static isSealed(value: unknown): boolean {
    return typeof value === "string" && value.startsWith(PREFIX);
  }
}
