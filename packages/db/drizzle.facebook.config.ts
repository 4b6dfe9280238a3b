import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/facebook/schema/index.ts",
  out: "./drizzle/facebook",
  casing: "snake_case",
});
