/**
 * Isolated databases for tests: every call gets its own database, so test files (which run in
 * parallel) never see each other's rows. `openTestDatabases()` lists both backends, so a store test
 * written once with `describe.each` runs on the embedded PGlite and on a real PostgreSQL server.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { openDatabase } from "../database/database.ts";
import type { Database } from "../database/database-types.ts";
import { migrate } from "../database/migrations.ts";
import "./provided-context.ts";

export interface TestDatabase {
  /** The URL of the new database, with credentials. */
  url: string;
  name: string;
  /** Drops the database, closing any connection still open on it. */
  drop(): Promise<void>;
}

/** The test server's superuser URL; throws (never skips) when the run has no server. */
export function testPostgresUrl(): string {
  const provided = inject("postgres");
  if (provided?.url === undefined) {
    throw new Error(
      provided?.unavailableReason ??
        "No PostgreSQL server was provided to this test run: run the tests through apps/sync-service/vitest.config.ts",
    );
  }
  return provided.url;
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresUrl() });
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates a uniquely named, empty database on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `linq_sync_test_${randomBytes(6).toString("hex")}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(testPostgresUrl());
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop() {
      dropping ??= withAdminClient(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
      return dropping;
    },
  };
}

export interface OpenTestDatabaseOptions {
  /** Apply the service's migrations (default true). */
  migrate?: boolean;
  poolSize?: number;
}

export interface TestBackend {
  name: "pglite" | "postgres";
  /** A fresh, isolated database; its `close()` also removes it. */
  open(options?: OpenTestDatabaseOptions): Promise<Database>;
}

async function prepare(database: Database, options: OpenTestDatabaseOptions): Promise<Database> {
  if (options.migrate !== false) {
    try {
      await migrate(database);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

export function openTestDatabases(): TestBackend[] {
  return [
    {
      name: "pglite",
      async open(options = {}) {
        return prepare(await openDatabase({ inMemory: true }), options);
      },
    },
    {
      name: "postgres",
      async open(options = {}) {
        const testDatabase = await createTestDatabase();
        let database: Database;
        try {
          database = await openDatabase({ url: testDatabase.url, poolSize: options.poolSize });
        } catch (error) {
          await testDatabase.drop();
          throw error;
        }
        const closing = { promise: undefined as Promise<void> | undefined };
        const wrapped: Database = {
          ...database,
          close() {
            closing.promise ??= database.close().then(() => testDatabase.drop());
            return closing.promise;
          },
        };
        return prepare(wrapped, options);
      },
    },
  ];
}

export interface TestDatabaseHandle {
  /** The open database; throws the error that prevented opening it (so each test fails with it). */
  readonly database: Database;
}

/**
 * Opens a database of `backend` before the tests of the calling `describe` and closes it after.
 * When it cannot be opened (no PostgreSQL server, say) every test that reads `database` fails with
 * the reason, rather than being reported as skipped.
 */
export function useTestDatabase(
  backend: TestBackend,
  options: OpenTestDatabaseOptions = {},
): TestDatabaseHandle {
  let database: Database | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      database = await backend.open(options);
    } catch (error) {
      failure = error;
    }
  });
  afterAll(async () => {
    await database?.close();
  });
  return {
    get database(): Database {
      if (database === undefined) {
        throw (
          failure ?? new Error(`The ${backend.name} test database is not open (use it inside a test or hook)`)
        );
      }
      return database;
    },
  };
}
