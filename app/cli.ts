#!/usr/bin/env node
// tandem serve (default) | tandem migrate
import { ConfigError, loadConfig } from "./config/env.js";
import { loadProxyConfig, ModelConfigError } from "./config/model-config.js";
import { MigrationError, migrate } from "./db/migrate.js";
import { createLogger } from "./observability/logger.js";
import { scrub } from "./observability/secrets.js";
import { migrationsDir } from "./paths.js";
import { startServer } from "./server.js";

const USAGE = "usage: tandem [serve|migrate]";

// Bad input stops the process with one line naming the culprit.
function die(message: string): never {
  process.stderr.write(`tandem: ${scrub(message)}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? "serve";
  if (command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command !== "serve" && command !== "migrate") die(`unknown command ${JSON.stringify(command)}; ${USAGE}`);

  let config;
  try {
    config = loadConfig(process.env, command);
  } catch (error) {
    if (error instanceof ConfigError) die(error.message);
    throw error;
  }
  const log = createLogger(config.logLevel);

  if (command === "migrate") {
    try {
      const result = await migrate(config.writer, { dir: migrationsDir, log });
      log.info(
        { applied: result.applied, alreadyApplied: result.alreadyApplied.length },
        `migrations done: ${result.applied.length} applied`,
      );
      log.flush();
      return;
    } catch (error) {
      if (error instanceof MigrationError) die(error.message);
      throw error;
    }
  }

  let proxy;
  try {
    proxy = loadProxyConfig(config.configFile, process.env);
  } catch (error) {
    if (error instanceof ModelConfigError) die(error.message);
    throw error;
  }
  if (!config.masterKey && !proxy.masterKey && !config.litellmMasterKey)
    die(
      proxy.masterKeyProblem ??
        `MASTER_KEY must be set (the admin bearer token); ${config.configFile} has no general_settings.master_key either`,
    );
  const running = await startServer(config, proxy, log);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      log.info({ signal }, "signal received");
      void running.shutdown(config.shutdownTimeoutMs).then(
        () => {
          log.flush();
          process.exit(0);
        },
        (error: unknown) => {
          log.error({ err: error }, "shutdown failed");
          log.flush();
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => die(error instanceof Error ? error.message : String(error)));
