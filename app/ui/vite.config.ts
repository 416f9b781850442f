import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The admin UI, built to dist/ui and served by tandem under /ui (npm run build:ui).
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/ui/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../../dist/ui", import.meta.url)),
    emptyOutDir: true,
    // Everything as files of this origin: the Content-Security-Policy allows no inline content.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
  },
});
