// Prisma CLI configuration. Only `prisma generate` is used in this project:
// migrations are applied by tandem's own migrator (app/db/migrate.ts), so no
// datasource URL is needed here.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
