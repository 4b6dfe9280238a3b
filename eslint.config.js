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
    // The two services never import each other: they talk over tRPC, typed through @handshake/api-types.
    files: ["apps/messenger/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@handshake/facebook", "@handshake/facebook/*", "**/apps/facebook/**"], message: "apps never import each other: use the FacebookRouter type from @handshake/api-types." }] },
      ],
    },
  },
  {
    files: ["apps/facebook/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@handshake/messenger", "@handshake/messenger/*", "**/apps/messenger/**"], message: "apps never import each other: use the MessengerRouter type from @handshake/api-types." }] },
      ],
    },
  },
  {
    // The router types reach the apps' sources as types only: nothing of an app runs through this package.
    files: ["packages/api-types/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [{ group: ["**/apps/**"], allowTypeImports: true, message: "only `export type` / `import type` from an app." }] },
      ],
    },
  },
  {
    // The few places allowed to read process.env: env modules, tooling and tests.
    files: ["**/env.ts", "tooling/**", "**/*.test.ts", "**/test/**", "**/scripts/**", "**/bench/**", "vitest.config.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
);
