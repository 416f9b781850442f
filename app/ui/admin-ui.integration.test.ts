// The admin UI in a real browser — Debian's Chromium, headless, driven by
// Playwright — against tandem on a real primary/replica pair: sign-in, keys
// from creation to deletion with completions through the OpenAI client in
// between, teams and users, the Usage page's totals against /spend/logs, the
// Database page while the replica is stopped. Every page is screenshotted
// (test-artifacts/ui), checked with axe-core, and must log no console error.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import axe from "axe-core";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { appRoot } from "../paths.js";
import { eventually, MASTER_KEY, startProxy, type Proxy } from "../test-support/proxy.js";

const ARTIFACTS = process.env.TEST_ARTIFACTS_DIR ? join(process.env.TEST_ARTIFACTS_DIR, "ui") : join(appRoot, "test-artifacts", "ui");
const PAGES = ["keys", "teams", "users", "models", "organizations", "end-users", "budgets", "usage", "logs", "database"] as const;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

describe("admin UI in a real browser", () => {
  let proxy: Proxy;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  /** While true, a failed resource load (the wrong-key sign-in's 401) is what the step expects. */
  let expectingFailedLoad = false;

  const completion = (apiKey: string) =>
    new OpenAI({ apiKey, baseURL: `${proxy.base}/v1`, maxRetries: 0 }).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "three little words" }],
    });
  const statusOf = async (apiKey: string) => {
    try {
      await completion(apiKey);
      return 200;
    } catch (error) {
      return (error as { status?: number }).status ?? 0;
    }
  };
  const open = async (name: (typeof PAGES)[number]) => {
    await page.goto(`${proxy.base}/ui/${name}`);
    await page.getByRole("heading", { level: 1, name: new RegExp(`^${name.replace("-", " ")}$`, "i") }).waitFor();
  };

  before(async () => {
    execFileSync("bash", [join(appRoot, "scripts", "ensure-chromium.sh")], { stdio: "inherit" });
    execFileSync("npm", ["run", "--silent", "build:ui"], { cwd: appRoot, stdio: "inherit" });
    mkdirSync(ARTIFACTS, { recursive: true });
    // Models kept in the database: the Models page can add and delete them.
    proxy = await startProxy({}, { extraConfig: () => ({ sections: "general_settings:\n  store_model_in_db: true\n" }) });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // Root in a container: Chromium's sandbox needs user namespaces it may not have.
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    });
    context = await browser.newContext({ viewport: DESKTOP });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: proxy.base });
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      if (expectingFailedLoad && /Failed to load resource.*401/.test(message.text())) return;
      consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
  });
  after(async () => {
    await browser?.close();
    await proxy?.stop();
  });

  it("sign-in: a wrong key is refused with a message; the master key signs in to an HttpOnly, SameSite session the page cannot read", async () => {
    await page.goto(`${proxy.base}/ui/`);
    await page.getByRole("heading", { name: "Sign in to tandem" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "sign-in.png"), fullPage: true });
    expectingFailedLoad = true;
    await page.getByLabel("Password or master key").fill("sk-not-the-master-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Invalid credentials" }).waitFor();
    expectingFailedLoad = false;
    await page.getByLabel("Password or master key").fill(MASTER_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Keys" }).waitFor();

    const [cookie] = (await context.cookies()).filter((c) => c.name === "tandem_session");
    assert.ok(cookie, "a session cookie");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    // In the page's own words (strings: this file is type-checked for Node, without the DOM's names).
    const visible = await page.evaluate<string>(
      `[document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)].join(" ")`,
    );
    assert.ok(
      !visible.includes(MASTER_KEY) && !visible.includes("tandem_session"),
      "neither the key nor the session is readable by script",
    );
  });

  let secret = "";
  it("a key made in the UI, with a budget, shows its secret once; copied, it runs completions; the Usage page shows the same total as /spend/logs", async () => {
    await open("keys");
    await page.getByRole("button", { name: "Create key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create a key" });
    await dialog.getByLabel("Alias").fill("ui-key");
    await dialog.getByLabel("Max budget (USD)").fill("5");
    await dialog.getByLabel("RPM limit").fill("100");
    await dialog.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("new-secret");
    await shown.waitFor();
    secret = (await shown.textContent())?.trim() ?? "";
    assert.match(secret, /^sk-/);
    await page.getByRole("button", { name: "Copy key" }).click();
    assert.equal(await page.evaluate<string>("navigator.clipboard.readText()"), secret, "the copy button copies the secret");
    await page.screenshot({ path: join(ARTIFACTS, "keys-new-secret.png") });
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByTestId("key-row-ui-key").getByText("$5.0000").waitFor();

    for (let i = 0; i < 3; i++) await completion(secret);
    const rows = await proxy.spendRows("", (list) => list.length >= 3);
    const total = rows.reduce((sum, row) => sum + Number(row.spend), 0);
    assert.ok(total > 0);
    await open("usage");
    // The Usage page reads the daily aggregates on the replica: asked again until they have the spend.
    await eventually(
      async () => {
        await page.reload();
        const shownTotal = page.getByTestId("usage-total-spend");
        await shownTotal.filter({ hasText: /^\$\d/ }).waitFor();
        return shownTotal.textContent();
      },
      (text) => text === `$${total.toFixed(6)}`,
      30_000,
    );
    assert.equal(await page.getByTestId("usage-total-requests").textContent(), "3");
    await page.getByRole("img", { name: "Spend per day" }).locator(".recharts-bar-rectangle").first().waitFor();
  });

  it("the Logs page pages through a user's requests newest first, 50 at a time, and finds one by its request id", async () => {
    const made = await proxy.admin("/key/generate", { method: "POST", body: { user_id: "ui-logs-user" } });
    assert.equal(made.status, 200);
    const key = made.json.key as string;
    const ids: string[] = [];
    for (let round = 0; round < 11; round++) ids.push(...(await Promise.all([1, 2, 3, 4, 5].map(() => completion(key)))).map((c) => c.id));
    await proxy.spendRows("user_id=ui-logs-user", (rows) => rows.length === 55);
    await proxy.caughtUp();

    await open("logs");
    const form = page.getByRole("form", { name: "Log filters" });
    await form.getByLabel("User", { exact: true }).fill("ui-logs-user");
    await form.getByRole("button", { name: "Show" }).click();
    const rows = page.getByRole("region", { name: "Spend logs" }).locator("tbody tr");
    await eventually(
      () => rows.count(),
      (count) => count === 50,
      30_000,
    );
    const pageText = async () => (await page.getByTestId("log-page").textContent()) ?? "";
    assert.equal(await pageText(), "Page 1");
    const firstPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-testid")));
    await page.screenshot({ path: join(ARTIFACTS, "logs-page-1.png"), fullPage: true });

    await page.getByRole("button", { name: "Older" }).click();
    await eventually(
      () => rows.count(),
      (count) => count === 5,
      30_000,
    );
    assert.equal(await pageText(), "Page 2");
    assert.equal(await page.getByRole("button", { name: "Older" }).isDisabled(), true, "the last page has nothing older");
    const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-testid")));
    assert.deepEqual(
      [...firstPage, ...secondPage].sort(),
      ids.map((id) => `log-row-${id}`).sort(),
      "every request once, across the two pages",
    );
    // Newest first: the last request made is on the first page, the first made on the last.
    assert.ok(firstPage.includes(`log-row-${ids.at(-1)}`) && secondPage.includes(`log-row-${ids[0]}`));

    await page.getByRole("button", { name: "Newer" }).click();
    await eventually(
      () => rows.count(),
      (count) => count === 50,
      30_000,
    );
    await form.getByLabel("User", { exact: true }).fill("");
    await form.getByLabel("Request id").fill(ids[7]!);
    await form.getByRole("button", { name: "Show" }).click();
    await page.getByTestId(`log-row-${ids[7]}`).waitFor();
    assert.equal(await rows.count(), 1);
    assert.equal(await pageText(), "Page 1", "new filters start at the first page");
  });

  it("block in the UI: the next completion is refused; unblock: it works again", async () => {
    await open("keys");
    await page.getByRole("button", { name: "Block ui-key" }).click();
    await page.getByTestId("key-row-ui-key").getByText("blocked").waitFor();
    assert.equal(await statusOf(secret), 401);
    await page.getByRole("button", { name: "Unblock ui-key" }).click();
    await page.getByTestId("key-row-ui-key").getByText("active").waitFor();
    assert.equal(await statusOf(secret), 200);
  });

  it("regenerate: a new secret, shown once; the old one stops working", async () => {
    await page.getByRole("button", { name: "Regenerate ui-key" }).click();
    const shown = page.getByTestId("new-secret");
    await shown.waitFor();
    const renewed = (await shown.textContent())?.trim() ?? "";
    assert.match(renewed, /^sk-/);
    assert.notEqual(renewed, secret);
    await page.getByRole("button", { name: "Done" }).click();
    assert.equal(await statusOf(secret), 401);
    assert.equal(await statusOf(renewed), 200);
    secret = renewed;
  });

  it("delete, after a confirmation: the key is gone and refused", async () => {
    await page.getByRole("button", { name: "Delete ui-key" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete key" }).click();
    await page.getByTestId("key-row-ui-key").waitFor({ state: "detached" });
    assert.equal(await statusOf(secret), 401);
  });

  it("users and teams: made, given members, and deleted in the UI, as the API then tells", async () => {
    await open("users");
    await page.getByRole("button", { name: "Create user" }).click();
    let dialog = page.getByRole("dialog", { name: "Create a user" });
    await dialog.getByLabel("User id").fill("ui-user");
    await dialog.getByLabel("Max budget (USD)").fill("2");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await page.getByTestId("user-row-ui-user").waitFor();
    assert.equal((await proxy.admin("/user/info?user_id=ui-user")).json.user_id, "ui-user");

    await open("teams");
    await page.getByRole("button", { name: "Create team" }).click();
    dialog = page.getByRole("dialog", { name: "Create a team" });
    await dialog.getByLabel("Team alias").fill("ui-team");
    await dialog.getByLabel("Max budget (USD)").fill("10");
    await dialog.getByRole("button", { name: "Create team" }).click();
    await page.getByTestId("team-row-ui-team").waitFor();
    await page.getByRole("button", { name: "Add member to ui-team" }).click();
    dialog = page.getByRole("dialog");
    await dialog.getByLabel("User id").fill("ui-user");
    await dialog.getByRole("button", { name: "Add member" }).click();
    await page.getByTestId("team-row-ui-team").getByText("ui-user (user)").waitFor();
    const teams = (await proxy.admin("/team/list")).json as unknown as Array<{ team_alias: string; team_id: string; max_budget: number }>;
    const team = teams.find((t) => t.team_alias === "ui-team");
    assert.equal(team?.max_budget, 10);
    await page.screenshot({ path: join(ARTIFACTS, "teams-with-member.png"), fullPage: true });

    await page.getByRole("button", { name: "Delete ui-team" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByTestId("team-row-ui-team").waitFor({ state: "detached" });
    assert.equal((await proxy.admin(`/team/info?team_id=${team!.team_id}`)).status, 404);
    await open("users");
    await page.getByRole("button", { name: "Delete ui-user" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByTestId("user-row-ui-user").waitFor({ state: "detached" });
    assert.equal((await proxy.admin("/user/info?user_id=ui-user")).status, 404);
  });

  it("the Models page lists prices and cooldown state, and never an upstream API key", async () => {
    await open("models");
    await page.getByRole("cell", { name: "gpt-4o-mini" }).first().waitFor();
    const text = await page.content();
    assert.ok(!text.includes("sk-upstream-secret"), "no upstream key in the page");
    await page.getByText("available").first().waitFor();
  });

  it("the Models page adds a model kept in the database, tests it with a health call, and deletes it; the key it was given is never shown", async () => {
    const upstreamKey = "sk-ui-added-upstream-key";
    await open("models");
    await page.getByRole("button", { name: "Add model" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a model" });
    await dialog.getByLabel("Model name").fill("ui-model");
    await dialog.getByLabel("Provider and model").fill("openai/echo");
    await dialog.getByLabel("API base").fill(proxy.upstream.url);
    await dialog.getByLabel("API key").fill(upstreamKey);
    await dialog.getByRole("button", { name: "Add model" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.getByText("kept in the database").waitFor();
    const listed = (await proxy.admin("/model/info")).json.data as Array<{ model_name: string; model_info: { id: string } }>;
    const id = listed.find((m) => m.model_name === "ui-model")!.model_info.id;

    const answer = await new OpenAI({ apiKey: MASTER_KEY, baseURL: `${proxy.base}/v1`, maxRetries: 0 }).chat.completions.create({
      model: "ui-model",
      messages: [{ role: "user", content: "hello" }],
    });
    assert.ok(answer.choices[0]?.message.content, "the added model answers");
    assert.equal(proxy.upstream.requests.at(-1)!.authorization, `Bearer ${upstreamKey}`);

    await page.getByRole("button", { name: `Test ${id}` }).click();
    await page
      .getByTestId(`model-health-${id}`)
      .filter({ hasText: /^healthy$/ })
      .waitFor({ timeout: 30_000 });
    const unreachable = listed.find((m) => m.model_name === "unreachable")!.model_info.id;
    await page.getByRole("button", { name: `Test ${unreachable}` }).click();
    await page
      .getByTestId(`model-health-${unreachable}`)
      .filter({ hasText: /^unhealthy: / })
      .waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(ARTIFACTS, "models-tested.png"), fullPage: true });
    assert.ok(!(await page.content()).includes(upstreamKey), "the key it was given is not in the page");
    assert.equal(
      await page.getByRole("button", { name: `Delete ${unreachable}` }).count(),
      0,
      "a config file's model has no delete button",
    );

    await page.getByRole("button", { name: `Delete ${id}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByTestId(`model-row-${id}`).waitFor({ state: "detached" });
    const after = (await proxy.admin("/model/info")).json.data as Array<{ model_name: string }>;
    assert.ok(!after.some((m) => m.model_name === "ui-model"), "deleted on the server too");
  });

  it("budgets, end users and organizations: made, shown with their budgets, members and teams, blocked and deleted from their pages", async () => {
    await open("budgets");
    await page.getByRole("button", { name: "Create budget" }).click();
    let dialog = page.getByRole("dialog", { name: "Create a budget" });
    await dialog.getByLabel("Budget id").fill("ui-budget");
    await dialog.getByLabel("Max budget (USD)").fill("3");
    await dialog.getByLabel("RPM limit").fill("50");
    await dialog.getByLabel("Period").fill("30d");
    await dialog.getByRole("button", { name: "Create budget" }).click();
    await page.getByTestId("budget-row-ui-budget").getByText("$3.0000").waitFor();
    const budget = (await proxy.admin("/budget/info", { body: { budgets: ["ui-budget"] } })).json as unknown as Array<
      Record<string, unknown>
    >;
    assert.deepEqual([budget[0]?.max_budget, budget[0]?.rpm_limit, budget[0]?.budget_duration], [3, 50, "30d"]);

    await open("end-users");
    await page.getByRole("button", { name: "Create end user" }).click();
    dialog = page.getByRole("dialog", { name: "Create an end user" });
    await dialog.getByLabel("End user id").fill("ui-end-user");
    await dialog.getByLabel("Shared budget").click();
    await page.getByRole("option", { name: "ui-budget" }).click();
    await dialog.getByRole("button", { name: "Create end user" }).click();
    const row = page.getByTestId("end-user-row-ui-end-user");
    await row.getByText("ui-budget").waitFor();
    await row.getByText("$3.0000").waitFor();
    await page.getByRole("button", { name: "Block ui-end-user" }).click();
    await row.getByText("blocked").waitFor();
    assert.equal((await proxy.admin("/end_user/info?end_user_id=ui-end-user")).json.blocked, true);
    await page.screenshot({ path: join(ARTIFACTS, "end-users-blocked.png"), fullPage: true });
    await page.getByRole("button", { name: "Delete ui-end-user" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await row.waitFor({ state: "detached" });
    assert.equal((await proxy.admin("/end_user/info?end_user_id=ui-end-user")).status, 404);

    assert.equal((await proxy.admin("/user/new", { body: { user_id: "org-member" } })).status, 200);
    await open("organizations");
    await page.getByRole("button", { name: "Create organization" }).click();
    dialog = page.getByRole("dialog", { name: "Create an organization" });
    await dialog.getByLabel("Organization alias").fill("ui-org");
    await dialog.getByLabel("Max budget (USD)").fill("10");
    await dialog.getByLabel("Models").fill("gpt-4o-mini");
    await dialog.getByRole("button", { name: "Create organization" }).click();
    const org = page.getByTestId("organization-row-ui-org");
    await org.getByText("$10.0000").waitFor();
    await page.getByRole("button", { name: "Add member to ui-org" }).click();
    dialog = page.getByRole("dialog", { name: "Add a member to ui-org" });
    await dialog.getByLabel("User id").fill("org-member");
    await dialog.getByLabel("Role").click();
    await page.getByRole("option", { name: "org_admin" }).click();
    await dialog.getByRole("button", { name: "Add member" }).click();
    await org.getByText("org-member (org_admin)").waitFor();
    const orgId = (
      (await proxy.admin("/organization/list")).json as unknown as Array<{ organization_id: string; organization_alias: string }>
    ).find((o) => o.organization_alias === "ui-org")!.organization_id;
    assert.equal((await proxy.admin("/team/new", { body: { team_alias: "org-team", organization_id: orgId } })).status, 200);
    await page.reload();
    await org.getByText("org-team").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "organizations-with-team.png"), fullPage: true });
    await page.getByRole("button", { name: "Delete ui-org" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await org.waitFor({ state: "detached" });
    assert.equal((await proxy.admin(`/organization/info?organization_id=${orgId}`)).status, 404);

    await open("budgets");
    await page.getByRole("button", { name: "Delete ui-budget" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByTestId("budget-row-ui-budget").waitFor({ state: "detached" });
  });

  it("the Database page shows the reader degraded while the replica is stopped, and connected once it is back", async () => {
    await open("database");
    await page.getByTestId("reader-state").filter({ hasText: "connected" }).waitFor({ timeout: 30_000 });
    const replica = proxy.pair.replicas[0]!;
    replica.stop();
    try {
      await page.getByTestId("reader-state").filter({ hasText: "degraded" }).waitFor({ timeout: 60_000 });
      await page.screenshot({ path: join(ARTIFACTS, "database-reader-degraded.png"), fullPage: true });
    } finally {
      replica.start();
    }
    await page.getByTestId("reader-state").filter({ hasText: "connected" }).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId("writer-state").textContent(), "connected");
    // The replica as an instance: named as the server reports itself, with the address it is behind and its round trip.
    const row = page.getByTestId(`reader-row-127.0.0.1:${replica.port}`);
    await row.getByText("connected").waitFor({ timeout: 30_000 });
    const text = (await row.textContent()) ?? "";
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${replica.port}`), "reached through its address");
    assert.match(text, /address/, "found through the address");
    assert.match(text, / ms \((local|far)\)/, "its round trip, and whether it is local");
  });

  it("every page, at 1280 px and at a phone's width: screenshots, no serious or critical accessibility violation (axe-core), no console error", async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      for (const name of PAGES) {
        await open(name);
        await page.waitForLoadState("networkidle");
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${viewport.width}.png`), fullPage: true });
        // Evaluated through the debugging protocol: the page's CSP (no inline script) stays on.
        await page.evaluate(axe.source);
        const violations = await page.evaluate<string[]>(`
          axe.run(document, { resultTypes: ["violations"] }).then((result) =>
            result.violations
              .filter((v) => v.impact === "serious" || v.impact === "critical")
              .map((v) => v.id + " (" + v.impact + "): " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`);
        assert.deepEqual(violations, [], `${name} at ${viewport.width} px`);
      }
    }
    assert.deepEqual(consoleErrors, []);
  });

  it("the pages are served with a strict Content-Security-Policy and cache headers; API calls without the CSRF token are refused", async () => {
    const pageRes = await fetch(`${proxy.base}/ui/keys`);
    const csp = pageRes.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(pageRes.headers.get("cache-control"), "no-cache");
    const asset = (await pageRes.text()).match(/\/ui\/assets\/[\w.-]+\.js/)?.[0];
    assert.ok(asset);
    assert.match((await fetch(`${proxy.base}${asset}`)).headers.get("cache-control") ?? "", /max-age=31536000.*immutable/);

    const cookie = (await context.cookies()).find((c) => c.name === "tandem_session")!;
    const withCookie = (headers: Record<string, string> = {}) =>
      fetch(`${proxy.base}/key/generate`, {
        method: "POST",
        headers: { cookie: `tandem_session=${cookie.value}`, "content-type": "application/json", ...headers },
        body: "{}",
      });
    assert.equal((await withCookie()).status, 403, "no CSRF token");
    assert.equal((await withCookie({ "x-csrf-token": "forged" })).status, 403, "a forged CSRF token");
  });

  it("sign-out ends the session: its cookie no longer works, even if kept", async () => {
    const cookie = (await context.cookies()).find((c) => c.name === "tandem_session")!;
    await open("keys");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to tandem" }).waitFor();
    const res = await fetch(`${proxy.base}/ui/api/session`, { headers: { cookie: `tandem_session=${cookie.value}` } });
    assert.deepEqual(await res.json(), { signed_in: false });
    const call = await fetch(`${proxy.base}/key/list`, { headers: { cookie: `tandem_session=${cookie.value}` } });
    assert.equal(call.status, 401);
  });
});
