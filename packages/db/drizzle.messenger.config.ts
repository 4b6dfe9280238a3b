import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/messenger/schema/index.ts",
  out: "./drizzle/messenger",
  casing: "snake_case",
});
