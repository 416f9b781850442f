// Keys are known by their hash; the master key is recognised from the same hash.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hashKey, isHashOf, maskKey, toToken, tokenOf } from "./key-hash.js";

describe("key hashes", () => {
  const master = "sk-master-1234";
  const table: Array<{ name: string; token: string; secret: string; match: boolean }> = [
    { name: "the master key's own hash", token: hashKey(master), secret: master, match: true },
    { name: "another key's hash", token: hashKey("sk-other"), secret: master, match: false },
    { name: "a different master key (rotated) is hashed afresh", token: hashKey(master), secret: "sk-master-5678", match: false },
    { name: "the rotated master key's hash", token: hashKey("sk-master-5678"), secret: "sk-master-5678", match: true },
    { name: "a token that is not a sha256 in hex", token: "abc", secret: master, match: false },
    { name: "an empty token", token: "", secret: master, match: false },
  ];
  for (const row of table) it(row.name, () => assert.equal(isHashOf(row.token, row.secret), row.match));

  it("a token is accepted as it is, a key is hashed; a mask shows neither", () => {
    assert.equal(toToken(hashKey(master)), hashKey(master));
    assert.equal(toToken(master), hashKey(master));
    assert.equal(maskKey(master), "sk-...1234");
  });

  it("a presented secret's token is its hash, first time and remembered, past the memory's bound too", () => {
    const secrets = Array.from({ length: 5000 }, (_, i) => `sk-presented-${i}`);
    for (const secret of [...secrets, ...secrets.slice(0, 10), master, master]) assert.equal(tokenOf(secret), hashKey(secret));
  });
});
