import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "**/*.js", "!eslint.config.js", "reports/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // The algorithm is pure: no network, clients, clock or environment inside.
    files: ["src/autoscaler/algorithm/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["node:*", "http", "https", "net", "fs", "os", "child_process"],
              message: "the algorithm is pure: pass data in",
            },
            {
              group: ["@kubernetes/*", "express", "undici", "prom-client", "pino"],
              message: "the algorithm is pure: pass data in",
            },
            {
              group: ["../../adapter/*", "../*.js", "../**/!(algorithm)/*"],
              message: "imports flow one way: the algorithm imports only the pure core",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "process", message: "no environment in the algorithm" },
        { name: "fetch", message: "no network in the algorithm" },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "time is a parameter" },
      ],
    },
  },
);
