/**
 * Opens the service's one database: the embedded PGlite (a data directory, nothing to install) or a
 * PostgreSQL server that several replicas share. Both speak the same SQL; the differences (how a
 * transaction gets its connection, how a cross-process lock is taken) stay inside this file.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { ConfigurationError, NetworkError } from "@linq-connect/core";
import pg from "pg";
import { acquireDataDirectoryLock, type DataDirectoryLock } from "./data-directory-lock.ts";
import type { Database, OpenDatabaseOptions, QueryResult, SqlExecutor } from "./database-types.ts";
import { KeyedMutex } from "./keyed-mutex.ts";

export const defaultPoolSize = 10;
const connectionTimeoutMilliseconds = 10_000;

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.url !== undefined && options.url !== "") return openPostgres(options.url, options);
  return openPglite(options);
}

// ---------------------------------------------------------------------------------------------
// PGlite

interface PgliteResults {
  rows: unknown[];
  affectedRows?: number;
  rowCount?: number;
}

function pgliteResult<Row>(result: PgliteResults): QueryResult<Row> {
  return {
    rows: result.rows as Row[],
    // PGlite reports the command tag's count per statement (rows returned by a SELECT, rows changed by
    // an INSERT/UPDATE/DELETE), which is what `pg` reports too.
    rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
  };
}

async function openPglite(options: OpenDatabaseOptions): Promise<Database> {
  let pglite: PGlite;
  let lock: DataDirectoryLock | undefined;
  let description: string;
  if (options.inMemory === true) {
    description = "the in-memory embedded database";
    pglite = await PGlite.create();
  } else {
    const directory = resolve(options.dataDirectory ?? "./data");
    description = `the embedded database in ${directory}`;
    try {
      mkdirSync(directory, { recursive: true });
    } catch (error) {
      throw new ConfigurationError(
        `Cannot create the data directory ${directory} (LINQ_SYNC_DATA_DIR): ${(error as Error).message}`,
        { cause: error },
      );
    }
    lock = acquireDataDirectoryLock(directory);
    try {
      pglite = await PGlite.create(directory);
    } catch (error) {
      lock.release();
      throw new ConfigurationError(
        `Cannot open ${description} (LINQ_SYNC_DATA_DIR): ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  const mutex = new KeyedMutex();
  let closing: Promise<void> | undefined;
  // PGlite has one connection: a statement sent outside a running transaction waits for it to end.
  // From inside that transaction's own work it would wait forever, so it fails loudly instead.
  const transactionScope = new AsyncLocalStorage<{ active: boolean }>();
  const assertOutsideTransaction = (what: string) => {
    if (transactionScope.getStore()?.active === true) {
      throw new Error(
        `${what} was called on the database inside one of its transactions; on the embedded database this ` +
          "would wait for itself forever: use the transaction's executor",
      );
    }
  };

  return {
    kind: "pglite",
    queueConnection: { kind: "pglite", pglite },
    async query<Row extends Record<string, unknown>>(text: string, parameters?: readonly unknown[]) {
      assertOutsideTransaction("query");
      return pgliteResult<Row>(await pglite.query(text, parameters === undefined ? [] : [...parameters]));
    },
    async exec(text: string) {
      assertOutsideTransaction("exec");
      await pglite.exec(text);
    },
    async transaction<T>(work: (transaction: SqlExecutor) => Promise<T>): Promise<T> {
      assertOutsideTransaction("transaction");
      const scope = { active: true };
      try {
        return await pglite.transaction((transaction) =>
          transactionScope.run(scope, () =>
            work({
              async query<Row extends Record<string, unknown>>(
                text: string,
                parameters?: readonly unknown[],
              ) {
                return pgliteResult<Row>(
                  await transaction.query(text, parameters === undefined ? [] : [...parameters]),
                );
              },
            }),
          ),
        );
      } finally {
        scope.active = false;
      }
    },
    withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
      // One process owns a PGlite directory (see the lock file), so an in-process lock is exclusive
      // across everything that uses this database.
      return mutex.run(key, work);
    },
    async ping() {
      try {
        await pglite.query("SELECT 1");
      } catch (error) {
        throw new NetworkError(`${description} does not answer: ${errorMessage(error)}`, {
          source: "internal",
          cause: error,
        });
      }
    },
    close() {
      closing ??= (async () => {
        try {
          if (!pglite.closed) await pglite.close();
        } finally {
          lock?.release();
        }
      })();
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

interface ParsedUrl {
  /** The URL without its password, safe for messages and logs. */
  display: string;
  /** Strings that must never appear in a message: the password as written and decoded. */
  secrets: string[];
}

function parsePostgresUrl(url: string): ParsedUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL itself (and so its password) stays out of the message and of the cause.
    throw new ConfigurationError(
      "DATABASE_URL is not a valid URL (expected postgres://user:password@host:5432/name)",
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new ConfigurationError(
      `DATABASE_URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`,
    );
  }
  const secrets: string[] = [];
  const addSecret = (value: string | null) => {
    if (value === null || value === "") return;
    secrets.push(value);
    try {
      const decoded = decodeURIComponent(value);
      if (decoded !== value) secrets.push(decoded);
    } catch {
      // A malformed escape: the raw form is enough.
    }
  };
  addSecret(parsed.password);
  // libpq-style parameters may carry secrets too; the display form drops the query string.
  addSecret(parsed.searchParams.get("password"));
  addSecret(parsed.searchParams.get("sslpassword"));
  const user = parsed.username === "" ? "" : `${parsed.username}@`;
  const port = parsed.port === "" ? "" : `:${parsed.port}`;
  return { display: `${parsed.protocol}//${user}${parsed.hostname}${port}${parsed.pathname}`, secrets };
}

/** Node and pg codes for a connection that failed or broke: worth retrying. */
const networkErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up)
  "53300", // too_many_connections
]);

/** SQLSTATEs that mean the settings are wrong: retrying does not help. */
const configurationErrorCodes = new Map([
  ["28P01", "the password was rejected"],
  ["28000", "the server refused this user"],
  ["3D000", "the database does not exist"],
  ["42501", "the user lacks a privilege"],
]);

/**
 * Maps a connection failure to the core hierarchy; SQL errors (constraint violations, syntax) are
 * returned as they are, so callers can read their SQLSTATE `code`.
 */
function translatePostgresError(error: unknown, url: ParsedUrl, during: string): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const message = scrub(errorMessage(error), url.secrets);
  const codeText = typeof code === "string" ? code : "";
  const configurationReason = configurationErrorCodes.get(codeText);
  if (configurationReason !== undefined && (during === "connecting" || codeText.startsWith("28"))) {
    return new ConfigurationError(
      `Cannot use the PostgreSQL database ${url.display} (DATABASE_URL): ${configurationReason} (${message})`,
      { cause: scrubError(error, url.secrets) },
    );
  }
  const isConnectionFailure =
    networkErrorCodes.has(codeText) ||
    codeText.startsWith("08") ||
    /connection terminated|timeout exceeded when trying to connect|connection timeout|Connection refused/i.test(
      message,
    );
  if (isConnectionFailure) {
    return new NetworkError(
      `Cannot reach the PostgreSQL database ${url.display} (DATABASE_URL) while ${during}: ${message}`,
      { source: "internal", cause: scrubError(error, url.secrets) },
    );
  }
  if (url.secrets.some((secret) => error.message.includes(secret))) return scrubError(error, url.secrets);
  return error;
}

function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join("***");
  return result;
}

/** A copy of `error` whose message has no secret; keeps the SQLSTATE code and the class of error. */
function scrubError(error: Error, secrets: readonly string[]): Error {
  if (!secrets.some((secret) => error.message.includes(secret) || (error.stack ?? "").includes(secret))) {
    return error;
  }
  const copy = new Error(scrub(error.message, secrets));
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) (copy as Error & { code?: unknown }).code = code;
  return copy;
}

function postgresResult<Row>(result: pg.QueryResult | pg.QueryResult[]): QueryResult<Row> {
  // A text of several statements (only `exec` sends one) answers one result per statement.
  const last = Array.isArray(result) ? result.at(-1) : result;
  if (last === undefined) return { rows: [], rowCount: 0 };
  return { rows: last.rows as Row[], rowCount: last.rowCount ?? last.rows.length };
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<Database> {
  const parsedUrl = parsePostgresUrl(url);
  const poolSize = options.poolSize ?? defaultPoolSize;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new ConfigurationError(
      `The database pool size must be a positive integer, not ${String(poolSize)}`,
    );
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: connectionTimeoutMilliseconds,
    application_name: "linq-sync",
  });
  // An idle client whose connection breaks emits "error" on the pool; pg discards that client and
  // the next query opens a new connection. Without a listener the process would exit.
  pool.on("error", () => {});

  const run = async <Row>(
    executor: pg.Pool | pg.PoolClient,
    text: string,
    parameters: readonly unknown[] | undefined,
    during: string,
  ): Promise<QueryResult<Row>> => {
    try {
      const result: pg.QueryResult | pg.QueryResult[] = await executor.query(
        text,
        parameters === undefined ? undefined : [...parameters],
      );
      return postgresResult<Row>(result);
    } catch (error) {
      throw translatePostgresError(error, parsedUrl, during);
    }
  };

  const connect = async (): Promise<pg.PoolClient> => {
    try {
      return await pool.connect();
    } catch (error) {
      throw translatePostgresError(error, parsedUrl, "connecting");
    }
  };

  try {
    await run(pool, "SELECT 1", undefined, "connecting");
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }

  const mutex = new KeyedMutex();
  let closing: Promise<void> | undefined;

  return {
    kind: "postgres",
    queueConnection: { kind: "postgres", connectionString: url },
    query<Row extends Record<string, unknown>>(text: string, parameters?: readonly unknown[]) {
      return run<Row>(pool, text, parameters, "querying");
    },
    async exec(text: string) {
      await run(pool, text, undefined, "executing");
    },
    async transaction<T>(work: (transaction: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await connect();
      let broken: Error | undefined;
      try {
        await run(client, "BEGIN", undefined, "starting a transaction");
        const result = await work({
          query<Row extends Record<string, unknown>>(text: string, parameters?: readonly unknown[]) {
            return run<Row>(client, text, parameters, "querying in a transaction");
          },
        });
        await run(client, "COMMIT", undefined, "committing");
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          // The connection is unusable: destroy it rather than hand it back mid-transaction.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
      // The in-process lock first, so callers of one process queue here instead of each holding a
      // pooled connection while they wait for the advisory lock.
      return mutex.run(key, async () => {
        const client = await connect();
        let broken: Error | undefined;
        try {
          await run(client, "SELECT pg_advisory_lock(hashtextextended($1, 0))", [key], "taking a lock");
        } catch (error) {
          client.release(error instanceof Error ? error : true);
          throw error;
        }
        try {
          return await work();
        } finally {
          try {
            await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
          } catch (unlockError) {
            // Destroying the connection ends its session, which releases the lock on the server.
            broken = unlockError instanceof Error ? unlockError : new Error(String(unlockError));
          }
          client.release(broken);
        }
      });
    },
    async ping() {
      await run(pool, "SELECT 1", undefined, "checking the connection");
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== "") return error.message;
  // Node reports a refused connection to every address of a host as an AggregateError without message.
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error.name;
}
