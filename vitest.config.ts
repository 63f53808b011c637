import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "test/unit/**/*.test.ts",
            "src/**/*.test.ts",
            "scripts/**/*.test.ts",
            "loadtest/**/*.test.ts",
          ],
          environment: "node",
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          environment: "node",
          // One real control plane is shared by every e2e file (see test/e2e/global-setup.ts);
          // files run one after another so they do not fight over two cores.
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 300_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
