// Runs `prisma generate`. Generate never executes the schema engine, but it
// insists on finding one and tries to download it when missing; offline
// (CI, air-gapped builds) that download fails. Pointing the engine variable at
// any existing file lets generate finish with the same output.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
const result = spawnSync("prisma", ["generate"], { stdio: "inherit", env, shell: false });
if (result.error) {
  console.error(`prisma generate failed: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
