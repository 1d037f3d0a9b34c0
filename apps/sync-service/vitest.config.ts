import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // One PostgreSQL server for the run (TEST_DATABASE_URL, or a throw-away cluster from the local
    // installation): tests reach it through src/test-support/test-database.ts.
    globalSetup: [fileURLToPath(new URL("./src/test-support/global-setup.ts", import.meta.url))],
    // scripts/test-all.sh asks for a JSON report so that it can print one total.
    reporters: process.env.LINQ_CONNECT_TEST_REPORT
      ? ["default", ["json", { outputFile: "test-results/vitest.json" }]]
      : ["default"],
  },
});
