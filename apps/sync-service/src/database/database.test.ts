import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConfigurationError, NetworkError } from "@linq-connect/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  openTestDatabases,
  type TestDatabase,
  testPostgresUrl,
  useTestDatabase,
} from "../test-support/index.ts";
import { lockFileName } from "./data-directory-lock.ts";
import { openDatabase } from "./database.ts";
import type { Database } from "./database-types.ts";
import { migrate } from "./migrations.ts";

const execFileAsync = promisify(execFile);

describe.each(openTestDatabases())("Database on $name", (backend) => {
  let database: Database;
  const handle = useTestDatabase(backend, { migrate: false });
  beforeEach(async () => {
    database = handle.database;
    await database.exec("CREATE TABLE IF NOT EXISTS items (id integer PRIMARY KEY, label text NOT NULL)");
  });
  afterEach(async () => {
    await database.query("DELETE FROM items");
  });

  it("reports its kind and how pg-boss reaches it", () => {
    expect(database.kind).toBe(backend.name);
    expect(database.queueConnection.kind).toBe(backend.name);
  });

  it("returns rows and counts the rows a statement changed", async () => {
    const inserted = await database.query(
      "INSERT INTO items (id, label) VALUES ($1, $2), ($3, $4) RETURNING id",
      [1, "one", 2, "two"],
    );
    expect(inserted.rowCount).toBe(2);
    expect(inserted.rows.map((row) => row.id)).toEqual([1, 2]);
    const updated = await database.query("UPDATE items SET label = label || '!' WHERE id = $1", [2]);
    expect(updated.rowCount).toBe(1);
    expect(updated.rows).toEqual([]);
    const selected = await database.query<{ label: string }>("SELECT label FROM items ORDER BY id");
    expect(selected.rows).toEqual([{ label: "one" }, { label: "two!" }]);
  });

  it("commits a transaction that succeeds", async () => {
    const result = await database.transaction(async (transaction) => {
      await transaction.query("INSERT INTO items (id, label) VALUES (1, 'a')");
      await transaction.query("INSERT INTO items (id, label) VALUES (2, 'b')");
      return "done";
    });
    expect(result).toBe("done");
    const { rows } = await database.query("SELECT id FROM items ORDER BY id");
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("rolls back every statement of a transaction that throws, and stays usable", async () => {
    await expect(
      database.transaction(async (transaction) => {
        await transaction.query("INSERT INTO items (id, label) VALUES (1, 'a')");
        await transaction.query("INSERT INTO items (id, label) VALUES (1, 'duplicate')");
      }),
    ).rejects.toMatchObject({ code: "23505" });
    const { rows } = await database.query("SELECT id FROM items");
    expect(rows).toEqual([]);
    await database.transaction((transaction) =>
      transaction.query("INSERT INTO items (id, label) VALUES (3, 'c')"),
    );
    expect((await database.query("SELECT id FROM items")).rows).toEqual([{ id: 3 }]);
  });

  it("passes SQL errors through with their SQLSTATE", async () => {
    await expect(database.query("SELECT * FROM no_such_table")).rejects.toMatchObject({ code: "42P01" });
  });

  it("runs the holders of one lock key one at a time, and other keys alongside", async () => {
    let inside = 0;
    let maximum = 0;
    const order: number[] = [];
    const holder = (index: number) =>
      database.withLock("test:serial", async () => {
        inside += 1;
        maximum = Math.max(maximum, inside);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(index);
        inside -= 1;
        return index;
      });
    const results = await Promise.all([0, 1, 2, 3, 4].map(holder));
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(maximum).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4]);

    // Another key is not blocked by a held one.
    let releaseFirst!: () => void;
    const first = database.withLock(
      "test:a",
      () =>
        new Promise<void>((resolve) => {
          releaseFirst = resolve;
        }),
    );
    await expect(database.withLock("test:b", async () => "b ran")).resolves.toBe("b ran");
    releaseFirst();
    await first;
  });

  it("releases a lock when its work throws", async () => {
    await expect(
      database.withLock("test:throws", async () => {
        throw new Error("work failed");
      }),
    ).rejects.toThrow("work failed");
    await expect(database.withLock("test:throws", async () => "again")).resolves.toBe("again");
  });

  it("refuses to take a lock it already holds instead of waiting for itself", async () => {
    const result = await database.withLock("test:outer", () =>
      database.withLock("test:inner", async () => {
        await expect(database.withLock("test:outer", async () => "deadlock")).rejects.toThrow(
          "not reentrant",
        );
        return "nested";
      }),
    );
    expect(result).toBe("nested");
    // Released afterwards: the same key can be taken again.
    await expect(database.withLock("test:outer", async () => "again")).resolves.toBe("again");
  });

  it(
    backend.name === "pglite"
      ? "fails a statement sent beside its own transaction rather than hanging"
      : "runs a statement sent beside a transaction on another connection",
    async () => {
      const outcome = await database
        .transaction(async (transaction) => {
          await transaction.query("INSERT INTO items (id, label) VALUES (7, 'in transaction')");
          return database.query("SELECT count(*)::integer AS count FROM items");
        })
        .then(
          (result) => ({ rows: result.rows }),
          (error: unknown) => ({ error: (error as Error).message }),
        );
      if (backend.name === "pglite") {
        expect(outcome).toEqual({ error: expect.stringContaining("use the transaction's executor") });
        expect((await database.query("SELECT id FROM items")).rows).toEqual([]);
      } else {
        // The other connection does not see the uncommitted row.
        expect(outcome).toEqual({ rows: [{ count: 0 }] });
        expect((await database.query("SELECT id FROM items")).rows).toEqual([{ id: 7 }]);
      }
    },
  );

  it("answers ping", async () => {
    await expect(database.ping()).resolves.toBeUndefined();
  });
});

describe("Database close", () => {
  it.each(openTestDatabases())("is idempotent on $name", async (backend) => {
    const database = await backend.open({ migrate: false });
    await Promise.all([database.close(), database.close()]);
    await database.close();
    await expect(database.query("SELECT 1")).rejects.toThrow();
  });
});

describe("embedded PGlite in a data directory", () => {
  let parent: string;
  beforeAll(() => {
    parent = mkdtempSync(join(tmpdir(), "linq-sync-pglite-"));
  });
  afterAll(() => {
    rmSync(parent, { recursive: true, force: true });
  });

  it("creates the directory, keeps the data across close and reopen, and removes its lock file", async () => {
    const directory = join(parent, "nested", "data");
    const first = await openDatabase({ dataDirectory: directory });
    expect(existsSync(join(directory, lockFileName))).toBe(true);
    await migrate(first);
    await first.query("INSERT INTO cursors (name, value) VALUES ('persisted', 'yes')");
    await first.close();
    expect(existsSync(join(directory, lockFileName))).toBe(false);

    const second = await openDatabase({ dataDirectory: directory });
    try {
      expect(await migrate(second)).toEqual({ applied: [] });
      const { rows } = await second.query("SELECT value FROM cursors WHERE name = 'persisted'");
      expect(rows).toEqual([{ value: "yes" }]);
    } finally {
      await second.close();
    }
  });

  it("refuses a second open of the same directory in one process", async () => {
    const directory = join(parent, "same-process");
    const database = await openDatabase({ dataDirectory: directory });
    try {
      await expect(openDatabase({ dataDirectory: directory })).rejects.toBeInstanceOf(ConfigurationError);
    } finally {
      await database.close();
    }
  });

  it("refuses a directory that another live process holds", async () => {
    const directory = join(parent, "held-elsewhere");
    const database = await openDatabase({ dataDirectory: directory });
    await database.close();
    // The parent of this test process is alive and is not this process.
    writeFileSync(join(directory, lockFileName), JSON.stringify({ pid: process.ppid, hostname: hostname() }));
    const failure = await openDatabase({ dataDirectory: directory }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as Error).message).toContain(`pid ${process.ppid}`);
    expect((failure as Error).message).toContain("DATABASE_URL");
    // The other process's lock is left alone.
    expect(JSON.parse(readFileSync(join(directory, lockFileName), "utf8")).pid).toBe(process.ppid);
  });

  it("takes over the lock of a process that is gone", async () => {
    const directory = join(parent, "stale");
    const database = await openDatabase({ dataDirectory: directory });
    await database.close();
    const { stdout } = await execFileAsync(process.execPath, ["-e", "console.log(process.pid)"]);
    const deadPid = Number(stdout.trim());
    writeFileSync(join(directory, lockFileName), JSON.stringify({ pid: deadPid, hostname: hostname() }));
    const reopened = await openDatabase({ dataDirectory: directory });
    try {
      expect(JSON.parse(readFileSync(join(directory, lockFileName), "utf8")).pid).toBe(process.pid);
      await expect(reopened.ping()).resolves.toBeUndefined();
    } finally {
      await reopened.close();
    }
  });

  it("takes over a lock whose pid now belongs to another process, or that is unreadable", async () => {
    const directory = join(parent, "reused-pid");
    const database = await openDatabase({ dataDirectory: directory });
    await database.close();
    // The parent is alive, but it started at another time than the recorded owner.
    writeFileSync(
      join(directory, lockFileName),
      JSON.stringify({ pid: process.ppid, hostname: hostname(), processStart: "1" }),
    );
    const reopened = await openDatabase({ dataDirectory: directory });
    await reopened.close();
    writeFileSync(join(directory, lockFileName), "{ torn");
    const again = await openDatabase({ dataDirectory: directory });
    try {
      expect(JSON.parse(readFileSync(join(directory, lockFileName), "utf8")).pid).toBe(process.pid);
    } finally {
      await again.close();
    }
  });

  it("makes a second process fail with a clear error while the first holds the directory", async () => {
    const directory = join(parent, "two-processes");
    const database = await openDatabase({ dataDirectory: directory });
    try {
      const databaseModule = fileURLToPath(new URL("./database.ts", import.meta.url));
      const script = `
        const { openDatabase } = await import(${JSON.stringify(databaseModule)});
        try {
          const database = await openDatabase({ dataDirectory: ${JSON.stringify(directory)} });
          await database.close();
          console.log("opened");
        } catch (error) {
          console.log(error.name + ": " + error.message);
        }`;
      const { stdout } = await execFileAsync(process.execPath, ["--input-type=module", "-e", script], {
        timeout: 30_000,
      });
      expect(stdout).toContain("DataDirectoryInUseError");
      expect(stdout).toContain(`in use by another linq-sync process (pid ${process.pid})`);
    } finally {
      await database.close();
    }
  });
});

describe("PostgreSQL connections", () => {
  let testDatabase: TestDatabase | undefined;
  afterAll(async () => {
    await testDatabase?.drop();
  });

  it("holds withLock exclusively across two Database instances", async () => {
    testDatabase = await createTestDatabase();
    const first = await openDatabase({ url: testDatabase.url, poolSize: 4 });
    const second = await openDatabase({ url: testDatabase.url, poolSize: 4 });
    try {
      let inside = 0;
      let overlap = 0;
      let runs = 0;
      const holder = (database: Database) =>
        database.withLock("test:shared-counter", async () => {
          inside += 1;
          if (inside > 1) overlap += 1;
          await new Promise((resolve) => setTimeout(resolve, 3));
          runs += 1;
          inside -= 1;
        });
      await Promise.all(Array.from({ length: 20 }, (_, index) => holder(index % 2 === 0 ? first : second)));
      expect(runs).toBe(20);
      expect(overlap).toBe(0);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("keeps the password out of the error for a rejected password", async () => {
    const url = new URL(testPostgresUrl());
    const password = "wrong-Pa55word-xyz";
    url.password = password;
    const failure = await openDatabase({ url: url.toString() }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigurationError);
    const text = describeError(failure);
    expect(text).toContain("password was rejected");
    expect(text).toContain(`${url.hostname}:${url.port}`);
    expect(text).not.toContain(password);
    // Neither the real password of the server.
    expect(text).not.toContain(new URL(testPostgresUrl()).password);
  });

  it("reports an unreachable server as a NetworkError without the password", async () => {
    const password = "s3cret-Unreachable-pw";
    const failure = await openDatabase({ url: `postgres://someone:${password}@127.0.0.1:1/linq` }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(NetworkError);
    expect((failure as NetworkError).isRetryable).toBe(true);
    const text = describeError(failure);
    expect(text).toContain("postgres://someone@127.0.0.1:1/linq");
    expect(text).not.toContain(password);
  });

  it("rejects a malformed URL or another scheme without echoing it", async () => {
    const password = "pw-in-a-bad-url";
    for (const url of [`postgres://user:${password}@[bad`, `mysql://user:${password}@localhost/db`]) {
      const failure = await openDatabase({ url }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConfigurationError);
      expect(describeError(failure)).not.toContain(password);
    }
  });

  it("reports a database that does not exist as a configuration error", async () => {
    const url = new URL(testPostgresUrl());
    url.pathname = "/linq_sync_no_such_database";
    const failure = await openDatabase({ url: url.toString() }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect(describeError(failure)).toContain("does not exist");
    expect(describeError(failure)).not.toContain(url.password);
  });
});

/** Everything a log line could show of an error: message, stack, JSON and the causes. */
function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    if (current instanceof Error) {
      parts.push(String(current), current.stack ?? "", JSON.stringify(current));
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join("\n");
}
