/**
 * Vitest global setup: one PostgreSQL server for the whole test run. `TEST_DATABASE_URL` names an
 * existing server; otherwise a throw-away cluster is started from the local installation and removed
 * at the end. Without either, the tests that need a server fail with the reason (they never skip).
 */
import type { TestProject } from "vitest/node";
import { ensurePostgresHint, findPostgresBinDirectory, startPostgresServer } from "./postgres-server.ts";
import "./provided-context.ts";

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const configured = process.env.TEST_DATABASE_URL;
  if (configured !== undefined && configured !== "") {
    project.provide("postgres", { url: configured });
    return undefined;
  }
  const binDirectory = findPostgresBinDirectory();
  if (binDirectory === undefined) {
    project.provide("postgres", {
      unavailableReason: `No PostgreSQL server for the server-mode tests: TEST_DATABASE_URL is unset and no installation was found in /usr/lib/postgresql/*/bin. ${ensurePostgresHint}`,
    });
    return undefined;
  }
  try {
    const server = await startPostgresServer({ binDirectory });
    project.provide("postgres", { url: server.url });
    return () => server.stop();
  } catch (error) {
    project.provide("postgres", {
      unavailableReason: `The test PostgreSQL server from ${binDirectory} did not start: ${(error as Error).message}`,
    });
    return undefined;
  }
}
