import { defineConfig } from "vitest/config";

// One vitest run for the whole workspace. Tests that need PostgreSQL get a real
// server from the global setup: embedded PostgreSQL unless DATABASE_URL is set.
export default defineConfig({
  test: {
    include: ["{apps,packages,loadtest,tooling}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["./tooling/test-postgres/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
