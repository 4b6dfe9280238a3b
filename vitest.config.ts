import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const k6Shims = fileURLToPath(new URL("./loadtest/compat/shims/", import.meta.url));

// One vitest run for the whole workspace. Tests that need PostgreSQL get a real
// server from the global setup: embedded PostgreSQL unless DATABASE_URL is set.
export default defineConfig({
  // The k6 scripts' `k6/*` imports resolve to small shims for loadtest's compat smoke
  // (nothing else imports k6).
  resolve: {
    alias: [
      { find: /^k6$/, replacement: `${k6Shims}k6.ts` },
      { find: /^k6\/(.+)$/, replacement: `${k6Shims}k6/$1.ts` },
    ],
  },
  test: {
    include: ["{apps,packages,loadtest,tooling}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["./tooling/test-postgres/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
