// The signed assertion a Vertex AI service account trades for an access token (RFC 7523).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, verify } from "node:crypto";
import { signedAssertion } from "./google-credentials.js";
import { serviceAccountKey } from "../../../config/google-key.js";

describe("Google service account assertion", () => {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const key = serviceAccountKey(
    JSON.stringify({
      type: "service_account",
      client_email: "sa@p.iam.gserviceaccount.com",
      private_key_id: "kid-9",
      private_key: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      token_uri: "https://token.example/token",
    }),
  );

  it("is a JWT signed RS256 by the account's key, naming the key, for the key's token_uri, for Cloud Platform, for an hour", () => {
    const [header, claims, signature] = signedAssertion(key, 1_700_000_000_000).split(".");
    assert.ok(verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), pair.publicKey, Buffer.from(signature!, "base64url")));
    assert.deepEqual(JSON.parse(Buffer.from(header!, "base64url").toString()), { alg: "RS256", typ: "JWT", kid: "kid-9" });
    assert.deepEqual(JSON.parse(Buffer.from(claims!, "base64url").toString()), {
      iss: "sa@p.iam.gserviceaccount.com",
      scope: "https://www.googleapis.com/auth/cloud-platform",
      aud: "https://token.example/token",
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
  });

  it("a key without a token_uri goes to Google's token endpoint", () => {
    const plain = serviceAccountKey(JSON.stringify({ client_email: "a@b", private_key: "-----BEGIN PRIVATE KEY-----x" }));
    assert.equal(plain.token_uri, "https://oauth2.googleapis.com/token");
  });

  it("says what a key lacks without repeating it", () => {
    assert.throws(() => serviceAccountKey("not json"), /is not JSON/);
    assert.throws(() => serviceAccountKey('{"client_email": "a@b"}'), /lacks client_email or private_key/);
  });
});
