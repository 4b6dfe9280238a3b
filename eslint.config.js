// One flat config for the whole workspace (run from the root: `pnpm lint`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/dist/**",
      "**/.turbo/**",
      ".data/**",
      ".artifacts/**",
      "loadtest/reports/**",
      "loadtest/fixtures/**",
      "packages/db/drizzle/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: {
        console: "readonly",
        process: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
        performance: "readonly",
        fetch: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        structuredClone: "readonly",
        queueMicrotask: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: "Read the environment in src/env.ts (validated with zod), nowhere else.",
        },
      ],
    },
  },
  {
    // The dashboard's browser code (apps/web/src): browser globals; it reads no environment.
    files: ["apps/web/src/**/*.{ts,tsx}"],
    languageOptions: {
      globals: {
        window: "readonly",
        document: "readonly",
        sessionStorage: "readonly",
        history: "readonly",
        location: "readonly",
        Event: "readonly",
        HTMLElement: "readonly",
        HTMLInputElement: "readonly",
        URLSearchParams: "readonly",
      },
    },
  },
  {
    // The few places allowed to read process.env: env modules, tooling and tests.
    files: ["**/env.ts", "tooling/**", "**/*.test.ts", "**/test/**", "**/scripts/**", "**/bench/**", "vitest.config.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
);
