/**
 * Versioned schema migrations, applied at start-up under a lock that every replica shares. They are
 * TypeScript data, so the build has no .sql files to copy. A released migration is never edited: a
 * change is a new version at the end of the list.
 */
import { ConfigurationError } from "@linq-connect/core";
import type { Database } from "./database-types.ts";

export interface Migration {
  version: number;
  name: string;
  /** Statements without parameters; they run in one transaction with the version's record. */
  sql: string;
}

export interface MigrationLogger {
  info(object: Record<string, unknown>, message?: string): void;
}

export const migrationLockKey = "linq-sync:migrations";

const initialSchema = `
CREATE TABLE linq_events (
  event_id text PRIMARY KEY,
  event_type text NOT NULL,
  known boolean NOT NULL,
  conversation_key text,
  linq_number text,
  route_name text,
  status text NOT NULL CHECK (status IN ('received', 'queued', 'skipped', 'processed', 'failed')),
  payload jsonb NOT NULL,
  event_created_at timestamptz,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  skip_reason text
);
CREATE INDEX linq_events_status_received_at ON linq_events (status, received_at);
CREATE INDEX linq_events_conversation_number ON linq_events (conversation_key, received_at)
  WHERE linq_number IS NOT NULL;

CREATE TABLE event_deliveries (
  event_id text NOT NULL REFERENCES linq_events (event_id) ON DELETE CASCADE,
  connector text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'processed', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  last_error jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, connector)
);

CREATE TABLE mappings (
  kind text NOT NULL,
  linq_id text NOT NULL,
  external_id text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, linq_id),
  UNIQUE (kind, external_id)
);

CREATE TABLE cursors (
  name text PRIMARY KEY,
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inbound_receipts (
  source text NOT NULL,
  external_event_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, external_event_id)
);

CREATE TABLE dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue text NOT NULL,
  job_id text NOT NULL UNIQUE,
  connector text NOT NULL,
  job_kind text NOT NULL,
  ordering_key text,
  payload jsonb NOT NULL,
  error jsonb NOT NULL,
  attempts integer NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz,
  replay_job_id text
);
CREATE INDEX dead_letters_connector_failed_at ON dead_letters (connector, failed_at);

CREATE TABLE backfill_progress (
  name text PRIMARY KEY,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

export const migrations: readonly Migration[] = [{ version: 1, name: "initial", sql: initialSchema }];

export interface MigrateOptions {
  logger?: MigrationLogger | undefined;
  /** The migrations to apply; the service's own list by default (tests pass others). */
  migrations?: readonly Migration[] | undefined;
}

export interface MigrateResult {
  /** Versions applied by this call, in order; empty when the schema was up to date. */
  applied: number[];
}

/**
 * Brings the schema up to date. Concurrent callers (replicas starting together) are serialised by a
 * lock; each missing version runs in its own transaction with its record in `schema_migrations`, so
 * a crash leaves either the whole version or none of it. Refuses a database that a newer release
 * migrated (a version this code does not know).
 */
export async function migrate(database: Database, options: MigrateOptions = {}): Promise<MigrateResult> {
  const known = options.migrations ?? migrations;
  assertWellFormed(known);
  return database.withLock(migrationLockKey, async () => {
    await database.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await database.query<{ version: number }>(
      "SELECT version FROM schema_migrations ORDER BY version",
    );
    const appliedVersions = new Set(rows.map((row) => Number(row.version)));
    const knownVersions = new Set(known.map((migration) => migration.version));
    const unknown = [...appliedVersions].filter((version) => !knownVersions.has(version));
    if (unknown.length > 0) {
      const newest = Math.max(...appliedVersions);
      const latestKnown = known.length === 0 ? 0 : Math.max(...knownVersions);
      throw new ConfigurationError(
        `The database schema has migration version${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}, ` +
          `which this release of linq-sync does not know (it knows up to version ${latestKnown}, the database is at ${newest}). ` +
          "A newer release has migrated this database: run that release, or point DATABASE_URL / LINQ_SYNC_DATA_DIR at another database.",
      );
    }
    const applied: number[] = [];
    for (const migration of known) {
      if (appliedVersions.has(migration.version)) continue;
      // One simple-protocol query string runs as one implicit transaction on PostgreSQL and PGlite:
      // the schema change and its record commit together or not at all.
      await database.exec(
        `${migration.sql.trim().replace(/;\s*$/, "")};\n` +
          `INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, ${quoteLiteral(migration.name)});`,
      );
      applied.push(migration.version);
      options.logger?.info(
        { version: migration.version, name: migration.name },
        "applied database migration",
      );
    }
    return { applied };
  });
}

/** The versions recorded in the database, in order (for `doctor` and tests). */
export async function appliedMigrationVersions(database: Database): Promise<number[]> {
  const { rows } = await database.query<{ version: number }>(
    "SELECT version FROM schema_migrations ORDER BY version",
  );
  return rows.map((row) => Number(row.version));
}

function assertWellFormed(list: readonly Migration[]): void {
  let previous = 0;
  for (const migration of list) {
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new ConfigurationError(
        `Migration versions must be increasing positive integers; ${migration.version} (${migration.name}) follows ${previous}`,
      );
    }
    if (/\b(BEGIN|COMMIT|ROLLBACK)\s*;/i.test(migration.sql)) {
      throw new ConfigurationError(
        `Migration ${migration.version} (${migration.name}) must not control its own transaction`,
      );
    }
    previous = migration.version;
  }
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
