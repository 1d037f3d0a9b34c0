/**
 * A throw-away PostgreSQL server for the tests: `initdb` into a fresh temporary directory, `postgres`
 * on a free port of 127.0.0.1, and everything removed on `stop()`. PostgreSQL refuses to run as
 * root, so as root the binaries run as the `postgres` OS user (which Debian's package creates).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chown } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const execFileAsync = promisify(execFile);

export const ensurePostgresHint =
  "Run scripts/ensure-postgres.sh (it installs Debian's postgresql package) or set TEST_DATABASE_URL=postgres://user:password@host:5432/postgres";

export interface PostgresServer {
  /** A superuser URL on the `postgres` database, with the password. */
  readonly url: string;
  readonly binDirectory: string;
  stop(): Promise<void>;
}

/**
 * The newest `/usr/lib/postgresql/<version>/bin` holding `postgres` and `initdb`; `POSTGRES_BIN_DIR`
 * overrides the search. Undefined when PostgreSQL is not installed.
 */
export function findPostgresBinDirectory(): string | undefined {
  const override = process.env.POSTGRES_BIN_DIR;
  if (override !== undefined && override !== "") {
    return hasServerBinaries(override) ? override : undefined;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((left, right) => Number(right) - Number(left));
  for (const version of versions) {
    const directory = join(root, version, "bin");
    if (hasServerBinaries(directory)) return directory;
  }
  return undefined;
}

function hasServerBinaries(directory: string): boolean {
  return existsSync(join(directory, "postgres")) && existsSync(join(directory, "initdb"));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("Could not find a free port"));
      });
    });
  });
}

interface OsUser {
  uid: number;
  gid: number;
}

async function lookUpPostgresUser(): Promise<OsUser> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync("id", ["-u", "postgres"]),
      execFileAsync("id", ["-g", "postgres"]),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(
      `PostgreSQL refuses to run as root and there is no "postgres" OS user to run it as. ${ensurePostgresHint}`,
    );
  }
}

/** The command line that runs `program` as the postgres user when we are root, directly otherwise. */
function asServerUser(runAsPostgres: boolean, program: string, argumentsList: string[]): [string, string[]] {
  return runAsPostgres
    ? ["runuser", ["-u", "postgres", "--", program, ...argumentsList]]
    : [program, argumentsList];
}

export async function startPostgresServer(options: { binDirectory?: string } = {}): Promise<PostgresServer> {
  const binDirectory = options.binDirectory ?? findPostgresBinDirectory();
  if (binDirectory === undefined) {
    throw new Error(
      `No PostgreSQL server is installed (looked in /usr/lib/postgresql/*/bin). ${ensurePostgresHint}`,
    );
  }
  const runAsPostgres = process.getuid?.() === 0;
  const owner = runAsPostgres ? await lookUpPostgresUser() : undefined;

  const root = mkdtempSync(join(tmpdir(), "linq-sync-postgres-"));
  const dataDirectory = join(root, "data");
  const password = randomBytes(18).toString("hex");
  const passwordFile = join(root, "password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (owner !== undefined) {
    await chown(root, owner.uid, owner.gid);
    await chown(passwordFile, owner.uid, owner.gid);
  }

  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  try {
    const [initdbProgram, initdbArguments] = asServerUser(runAsPostgres, join(binDirectory, "initdb"), [
      "-D",
      dataDirectory,
      "-U",
      "postgres",
      `--pwfile=${passwordFile}`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    try {
      await execFileAsync(initdbProgram, initdbArguments, { timeout: 120_000 });
    } catch (error) {
      const output = (error as { stderr?: string }).stderr ?? "";
      throw new Error(`initdb failed: ${(error as Error).message}\n${output}`);
    }
    rmSync(passwordFile, { force: true });

    let lastError: unknown;
    // A free port can be taken between the probe and postgres binding it: try a few.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const port = await freePort();
      try {
        return await launch({ binDirectory, runAsPostgres, root, dataDirectory, port, password, removeRoot });
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  } catch (error) {
    removeRoot();
    throw error;
  }
}

interface LaunchOptions {
  binDirectory: string;
  runAsPostgres: boolean;
  root: string;
  dataDirectory: string;
  port: number;
  password: string;
  removeRoot: () => void;
}

async function launch(options: LaunchOptions): Promise<PostgresServer> {
  const [program, argumentsList] = asServerUser(
    options.runAsPostgres,
    join(options.binDirectory, "postgres"),
    [
      "-D",
      options.dataDirectory,
      "-k",
      options.root,
      "-p",
      String(options.port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ],
  );
  const child = spawn(program, argumentsList, { stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    output = (output + chunk).slice(-8_000);
  });
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });

  const url = `postgres://postgres:${options.password}@127.0.0.1:${options.port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      throw new Error(`postgres exited while starting on port ${options.port}:\n${output}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) {
        await terminate(child, options.dataDirectory);
        throw new Error(
          `postgres did not accept connections within 30 s: ${(error as Error).message}\n${output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // Should the test run die without teardown, do not leave a server behind.
  const killOnExit = () => killPostmaster(options.dataDirectory, "SIGQUIT");
  process.once("exit", killOnExit);

  let stopping: Promise<void> | undefined;
  return {
    url,
    binDirectory: options.binDirectory,
    stop() {
      stopping ??= (async () => {
        process.removeListener("exit", killOnExit);
        await terminate(child, options.dataDirectory);
        options.removeRoot();
      })();
      return stopping;
    },
  };
}

/** The postmaster's pid from its pid file (the child may be `runuser`, not postgres itself). */
function postmasterPid(dataDirectory: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDirectory, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function killPostmaster(dataDirectory: string, signal: NodeJS.Signals): void {
  const pid = postmasterPid(dataDirectory);
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGINT is PostgreSQL's "fast shutdown": it disconnects clients and stops; SIGQUIT after 10 s. */
async function terminate(child: ChildProcess, dataDirectory: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  killPostmaster(dataDirectory, "SIGINT");
  if (postmasterPid(dataDirectory) === undefined) child.kill("SIGINT");
  const timeout = setTimeout(() => {
    killPostmaster(dataDirectory, "SIGQUIT");
    child.kill("SIGKILL");
  }, 10_000);
  await exited;
  clearTimeout(timeout);
}
