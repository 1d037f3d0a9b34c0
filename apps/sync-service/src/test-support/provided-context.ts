/** What the global setup hands to every test file (see vitest.config.ts). */
export interface ProvidedPostgres {
  /** A superuser URL of the test server, when one is available. */
  url?: string;
  /** Why there is no server, when there is none: tests that need one fail with this. */
  unavailableReason?: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    postgres: ProvidedPostgres;
  }
}
