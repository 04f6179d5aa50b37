import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".tmp/**", "dist/**"],
    // Property runs are bounded per test; chaos soaks belong to `flinch chaos --runs N`.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Builds the real-Flink job once (mvn) when java and mvn exist; the Flink tests skip otherwise.
    globalSetup: ["scenarios/flink/global-setup.ts"],
    setupFiles: ["vitest.setup.ts"],
  },
});
