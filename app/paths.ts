import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The app root is the directory holding package.json, both when running from
// source (app/*.ts via tsx) and compiled (dist/app/*.js in the image).
function findAppRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

export const appRoot = findAppRoot(dirname(fileURLToPath(import.meta.url)));
export const migrationsDir = join(appRoot, "prisma", "migrations");
