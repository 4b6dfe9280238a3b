import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const k6Shims = fileURLToPath(new URL("./loadtest/compat/shims/", import.meta.url));
const postgresSetup = fileURLToPath(new URL("./tooling/test-postgres/global-setup.ts", import.meta.url));

// One config for every workspace: each package's `test` script runs vitest from its
// own folder with `--config ../../vitest.config.ts` (that is how turbo runs and caches
// them, see turbo.json), and `pnpm test` at the root runs everything at once. Paths
// are therefore relative to wherever vitest runs, or absolute. Tests that need
// PostgreSQL get a real server from the global setup (one per vitest run):
// embedded PostgreSQL unless DATABASE_URL is set.
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
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: [postgresSetup],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The JSON report is what `pnpm check` counts (tooling/check) and what turbo
    // caches with each package's test task; relative to where vitest runs.
    reporters: ["default", "json"],
    outputFile: { json: ".artifacts/vitest-results.json" },
  },
});
