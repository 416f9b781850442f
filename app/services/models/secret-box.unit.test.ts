// How upstream secrets of models kept in the database are sealed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SecretBox, SecretUnreadable } from "./secret-box.js";

describe("SecretBox", () => {
  const box = new SecretBox("salt-1");

  it("seals a value so the row does not hold it, and opens it again", () => {
    const sealed = box.seal("sk-provider-key");
    assert.ok(!sealed.includes("sk-provider-key"));
    assert.ok(SecretBox.isSealed(sealed));
    assert.equal(box.open(sealed), "sk-provider-key");
  });

  it("seals the same value differently each time (a fresh nonce)", () => {
    assert.notEqual(box.seal("same"), box.seal("same"));
  });

  it("returns a value that was never sealed as it is (an os.environ/ reference written by hand)", () => {
    assert.equal(box.open("os.environ/OPENAI_API_KEY"), "os.environ/OPENAI_API_KEY");
    assert.equal(SecretBox.isSealed("os.environ/OPENAI_API_KEY"), false);
  });

  it("refuses a value sealed under another key, naming the setting to check", () => {
    const sealed = new SecretBox("salt-2").seal("sk-provider-key");
    assert.throws(
      () => box.open(sealed),
      (e: unknown) => e instanceof SecretUnreadable && /LITELLM_SALT_KEY/.test((e as Error).message),
    );
  });

  it("refuses a sealed value that was altered or cut short", () => {
    const sealed = box.seal("sk-provider-key");
    const flipped = sealed.slice(0, -2) + (sealed.endsWith("A") ? "B" : "A") + sealed.slice(-1);
    assert.throws(() => box.open(flipped), SecretUnreadable);
    assert.throws(() => box.open(sealed.slice(0, 30)), SecretUnreadable);
  });
});
