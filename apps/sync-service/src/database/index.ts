export { acquireDataDirectoryLock, type DataDirectoryLock, lockFileName } from "./data-directory-lock.ts";
export { defaultPoolSize, openDatabase } from "./database.ts";
export type {
  Database,
  OpenDatabaseOptions,
  QueryResult,
  QueueConnection,
  SqlExecutor,
} from "./database-types.ts";
export { KeyedMutex } from "./keyed-mutex.ts";
export {
  appliedMigrationVersions,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  type MigrationLogger,
  migrate,
  migrationLockKey,
  migrations,
} from "./migrations.ts";
