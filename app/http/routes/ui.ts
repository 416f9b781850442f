import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import express, { Router, type Response } from "express";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { z } from "zod";
import { appRoot } from "../../paths.js";
import { ApiError } from "../../services/errors.js";
import {
  SESSION_COOKIE,
  SESSION_TTL_MS,
  credentialsValid,
  csrfTokenOf,
  isMasterKey,
  issueSession,
  type Session,
} from "../../services/ui/session-token.js";
import type { AppContext } from "../context.js";
import { validate } from "../validate.js";
import { sameOrigin, sessionCaller, sessionOf, sessionSecret } from "../ui-session.js";

/** Where `npm run build:ui` (Vite) writes the admin UI. */
export const UI_DIR = join(appRoot, "dist", "ui");

// Only this origin's own files run; no inline script or style, no framing, no plugin.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

// LiteLLM's sign-in form posts `username` and `password`; the UI posts the same as JSON.
const SignIn = z.object({ username: z.string().max(256).optional(), password: z.string().min(1, "is required").max(1024) });

function pageHeaders(res: Response): void {
  res.setHeader("content-security-policy", CONTENT_SECURITY_POLICY);
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("x-frame-options", "DENY");
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("cross-origin-opener-policy", "same-origin");
}

function setSessionCookie(res: Response, token: string, secure: boolean): void {
  const attributes = [
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`,
    ...(secure ? ["Secure"] : []),
  ];
  res.setHeader("set-cookie", `${SESSION_COOKIE}=${token}; ${attributes.join("; ")}`);
}

const sessionView = (ctx: AppContext, session: Session) => ({
  user_id: "admin",
  user_role: "proxy_admin",
  csrf_token: csrfTokenOf(sessionSecret(ctx), session),
  expires: new Date(session.expiresAt).toISOString(),
  // What the pages may offer: adding models needs general_settings.store_model_in_db.
  store_model_in_db: ctx.storedModels !== undefined,
});

/**
 * The admin UI: LiteLLM's `POST /login` (form or JSON; the master key, or UI_USERNAME with
 * UI_PASSWORD), a session cookie (HttpOnly, SameSite=Strict, Secure behind TLS), sign-out, and the
 * built single-page app under `/ui` with a strict Content-Security-Policy. Mounted before the JSON
 * body rule: LiteLLM's sign-in is a form.
 */
export function uiRoutes(ctx: AppContext): Router {
  const router = Router();
  const failures = new RateLimiterMemory({ points: 10, duration: 300 });

  router.post("/login", express.urlencoded({ extended: false, limit: "8kb" }), express.json({ limit: "8kb" }), async (req, res) => {
    if (!ctx.ui.enabled) throw ApiError.notFound("the admin UI is disabled (DISABLE_ADMIN_UI)");
    if (!sameOrigin(req.headers)) throw ApiError.forbidden("origin: sign in from the admin UI's own origin", "origin");
    const { username, password } = validate(SignIn, req.body, "body");
    // The master key (128 random bits or more) always signs in: a flood of wrong passwords from the
    // load balancer's address must not lock the operator out. UI_PASSWORD may be weaker: ten wrong
    // tries per client address (req.ip) in five minutes, then a wait.
    const address = req.ip ?? "unknown";
    if (!isMasterKey(ctx.masterKey, password)) {
      const spent = await failures.get(address);
      if (spent && spent.consumedPoints >= 10)
        throw ApiError.rateLimited("Too many failed sign-ins from this address; try again later", spent.msBeforeNext);
      if (!credentialsValid(ctx.ui, ctx.masterKey, username, password)) {
        await failures.penalty(address, 1).catch(() => undefined);
        throw ApiError.unauthorized(
          "Invalid credentials used to access UI. Sign in with the master key, or UI_USERNAME and UI_PASSWORD.",
          "auth_error",
          "password",
        );
      }
    }
    await failures.delete(address).catch(() => undefined);
    const { token, session } = issueSession(sessionSecret(ctx));
    setSessionCookie(res, token, req.secure || req.headers["x-forwarded-proto"] === "https");
    // Which secret signed in, never what was typed (a password pasted into the user name field stays out of the log).
    ctx.log.info({ with: isMasterKey(ctx.masterKey, password) ? "master key" : "UI_PASSWORD" }, "admin UI sign-in");
    // A form (LiteLLM's page, a browser without script) goes on to the UI; the app gets JSON.
    if (req.is("application/x-www-form-urlencoded")) res.redirect(303, "/ui/");
    else res.json(sessionView(ctx, session));
  });

  // Signed out is an answer, not an error: the page asks this first, on every load.
  router.get("/ui/api/session", async (req, res) => {
    const session = ctx.ui.enabled ? await sessionOf(ctx, req.headers) : undefined;
    res.setHeader("cache-control", "no-store");
    res.json(session ? { signed_in: true, ...sessionView(ctx, session) } : { signed_in: false });
  });

  router.post("/ui/api/logout", async (req, res) => {
    const caller = await sessionCaller(ctx, req.headers);
    const session = caller && (await sessionOf(ctx, req.headers));
    if (session) await ctx.ui.revocations.revoke(session.id, session.expiresAt);
    res.setHeader("set-cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    res.json({ signed_out: Boolean(session) });
  });

  if (!ctx.ui.enabled) return router;
  // Hashed file names: cached for good. The page itself: always asked again (new builds show at once).
  router.use(
    "/ui/assets",
    express.static(join(UI_DIR, "assets"), {
      immutable: true,
      maxAge: "365d",
      index: false,
      fallthrough: false,
      setHeaders: (res) => res.setHeader("x-content-type-options", "nosniff"),
    }),
  );
  let page: string | undefined;
  // Mounted with use, not a path pattern: no path parameter to decode (a malformed %-escape is no error).
  router.use("/ui", (req, res, next) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || req.path.startsWith("/api/")) return next();
    page ??= existsSync(join(UI_DIR, "index.html")) ? readFileSync(join(UI_DIR, "index.html"), "utf8") : undefined;
    if (!page) throw new ApiError(503, "The admin UI is not built in this installation (npm run build:ui)", "service_unavailable", null);
    if (req.originalUrl === "/ui" || req.originalUrl.startsWith("/ui?")) return res.redirect(308, "/ui/");
    pageHeaders(res);
    res.setHeader("cache-control", "no-cache");
    res.type("html").send(page);
  });
  return router;
}
