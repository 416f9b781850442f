// The admin UI's sign-in and session over plain HTTP: LiteLLM's /login form,
// the cookie's attributes, the CSRF token every call needs, the limit on
// wrong passwords (which never locks out the master key), and paths under
// /ui that are not the app's.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";
import { startMigratedPair, type LocalPair } from "../test-support/pair.js";
import { startRedis, type RedisServer } from "../test-support/redis.js";

describe("admin UI sign-in and session", () => {
  let proxy: Proxy;
  const login = (body: Record<string, string>, form = false, headers: Record<string, string> = {}) =>
    fetch(`${proxy.base}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": form ? "application/x-www-form-urlencoded" : "application/json", ...headers },
      body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
    });
  const cookieOf = (res: Response) => (res.headers.get("set-cookie") ?? "").split(";")[0]!;

  before(async () => {
    proxy = await startProxy({ UI_USERNAME: "ops", UI_PASSWORD: "correct horse battery" });
  });
  after(async () => {
    await proxy?.stop();
  });

  it("LiteLLM's form sign-in (username, password) answers 303 to /ui/ with an HttpOnly, SameSite=Strict session cookie", async () => {
    const res = await login({ username: "admin", password: MASTER_KEY }, true);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/ui/");
    const cookie = res.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^tandem_session=v1\./);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);
    assert.ok(!cookie.includes(MASTER_KEY));
  });

  it("UI_USERNAME with UI_PASSWORD signs in; the session calls the API only with its CSRF token and from its own origin", async () => {
    const res = await login({ username: "ops", password: "correct horse battery" });
    assert.equal(res.status, 200);
    const { csrf_token } = (await res.json()) as { csrf_token: string };
    const cookie = cookieOf(res);
    const call = (headers: Record<string, string>) => fetch(`${proxy.base}/key/list`, { headers: { cookie, ...headers } });
    assert.equal((await call({ "x-csrf-token": csrf_token })).status, 200);
    assert.equal((await call({})).status, 403);
    assert.equal((await call({ "x-csrf-token": csrf_token, origin: "https://evil.example" })).status, 403);
    assert.equal(
      (await login({ username: "admin", password: "correct horse battery" })).status,
      401,
      "the password goes with its user name",
    );
  });

  it("ten wrong passwords from an address, then 429 for the UI password; the master key still signs in", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await login({ username: "ops", password: `wrong-${i}` })).status);
    // (The test before made one wrong sign-in from this address too.)
    const first = statuses.indexOf(429);
    assert.ok(first >= 9 && first <= 10, JSON.stringify(statuses));
    assert.ok(statuses.slice(first).every((status) => status === 429) && statuses.slice(0, first).every((status) => status === 401));
    const limited = await login({ username: "ops", password: "correct horse battery" });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.equal((await login({ password: MASTER_KEY })).status, 200);
  });

  it("a path under /ui with a malformed escape is the app's page or a 4xx, never a 500; the page's headers are strict", async () => {
    for (const path of ["/ui/%E0", "/ui/keys%ZZ", "/ui/usage?x=%E0"]) {
      const res = await fetch(`${proxy.base}${path}`);
      assert.ok(res.status < 500, `${path}: ${res.status}`);
    }
    const page = await fetch(`${proxy.base}/ui/keys`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    assert.equal(page.headers.get("x-frame-options"), "DENY");
    const bare = await fetch(`${proxy.base}/ui`, { redirect: "manual" });
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get("location"), "/ui/");
  });

  it("no credential in any log line", async () => {
    await proxy.logs.flush();
    const text = proxy.logs.lines.join("\n");
    for (const secret of [MASTER_KEY, "correct horse battery"]) assert.ok(!text.includes(secret), secret);
  });
});

describe("admin UI sessions in a fleet sharing a Redis", () => {
  let pair: LocalPair;
  let redis: RedisServer;
  let pods: Proxy[] = [];

  before(async () => {
    [pair, redis] = await Promise.all([startMigratedPair(), startRedis()]);
    pods = await Promise.all([0, 1].map(() => startProxy({ REDIS_URL: redis.url }, { pair })));
  });
  after(async () => {
    await Promise.all(pods.map((pod) => pod.stop()));
    await redis?.stop();
    pair?.stop();
  });

  it("a session signed in on one pod works on another; signed out on one, it is refused on every pod", async () => {
    const [a, b] = pods as [Proxy, Proxy];
    const res = await fetch(`${a.base}/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: MASTER_KEY }),
    });
    const { csrf_token } = (await res.json()) as { csrf_token: string };
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
    const headers = { cookie, "x-csrf-token": csrf_token };
    assert.equal((await fetch(`${b.base}/key/list`, { headers })).status, 200, "no shared state needed to sign in");
    assert.equal((await fetch(`${a.base}/ui/api/logout`, { method: "POST", headers })).status, 200);
    for (const pod of pods) assert.equal((await fetch(`${pod.base}/key/list`, { headers })).status, 401);
  });
});
