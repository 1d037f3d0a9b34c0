import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // scripts/test-all.sh asks for a JSON report so that it can print one total.
    reporters: process.env.LINQ_CONNECT_TEST_REPORT
      ? ["default", ["json", { outputFile: "test-results/vitest.json" }]]
      : ["default"],
  },
});
