export {
  createTestDatabase,
  type OpenTestDatabaseOptions,
  openTestDatabases,
  type TestBackend,
  type TestDatabase,
  type TestDatabaseHandle,
  testPostgresUrl,
  useTestDatabase,
} from "./test-database.ts";
