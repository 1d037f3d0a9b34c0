import { defineConfig } from "vitest/config";

// Root config: `pnpm vitest` from the repository root runs every package's tests.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
  },
});
