/**
 * PGlite runs PostgreSQL inside this process, so two processes must never open one data directory:
 * both would write the same files and corrupt them. A lock file with the owner's pid guards the
 * directory; a lock left by a process that is gone (killed, crashed) is taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { ConfigurationError } from "@linq-connect/core";

/** The embedded database's directory is held by another live process (PGlite allows one). */
export class DataDirectoryInUseError extends ConfigurationError {}

export const lockFileName = "linq-sync.lock";

interface LockOwner {
  pid: number;
  hostname: string;
  /** The owner's start time in clock ticks since boot (Linux), to tell a reused pid from the owner. */
  processStart?: string | undefined;
}

/** Directories this process holds, so a second open in the same process is refused too. */
const heldDirectories = new Set<string>();

export interface DataDirectoryLock {
  readonly path: string;
  release(): void;
}

export function acquireDataDirectoryLock(directory: string): DataDirectoryLock {
  const absoluteDirectory = resolve(directory);
  if (heldDirectories.has(absoluteDirectory)) {
    throw new ConfigurationError(
      `The data directory ${absoluteDirectory} is already open in this process; close the other database first`,
    );
  }
  const lockPath = join(absoluteDirectory, lockFileName);
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    processStart: readProcessStart(process.pid),
  };
  const content = JSON.stringify(owner);
  for (let attempt = 0; ; attempt += 1) {
    try {
      writeFileSync(lockPath, content, { flag: "wx", mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3) {
        throw new ConfigurationError(`Cannot create the lock file ${lockPath}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const holder = readLockOwner(lockPath);
      if (holder !== undefined && isOwnerAlive(holder)) {
        throw new DataDirectoryInUseError(
          `The data directory ${absoluteDirectory} is in use by another linq-sync process (pid ${holder.pid}). ` +
            "The embedded database allows one process at a time: stop that process, use another " +
            "LINQ_SYNC_DATA_DIR, or set DATABASE_URL to share a PostgreSQL server between replicas.",
        );
      }
      removeIfPresent(lockPath);
    }
  }
  heldDirectories.add(absoluteDirectory);
  let released = false;
  return {
    path: lockPath,
    release() {
      if (released) return;
      released = true;
      heldDirectories.delete(absoluteDirectory);
      // Remove the file only while it is still ours (another process may have taken over a lock it
      // judged stale, e.g. after this one was suspended for a long time).
      const current = readLockOwner(lockPath);
      if (current !== undefined && current.pid === owner.pid && current.hostname === owner.hostname) {
        removeIfPresent(lockPath);
      }
    },
  };
}

function readLockOwner(lockPath: string): LockOwner | undefined {
  let text: string;
  try {
    text = readFileSync(lockPath, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid !== "number" || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return undefined;
    return {
      pid: parsed.pid,
      hostname: typeof parsed.hostname === "string" ? parsed.hostname : "",
      processStart: typeof parsed.processStart === "string" ? parsed.processStart : undefined,
    };
  } catch {
    // A torn or foreign file: nobody can own it.
    return undefined;
  }
}

function isOwnerAlive(owner: LockOwner): boolean {
  // Another host (a recreated container with the same volume) cannot be checked from here; its
  // process is not running on this machine, so the lock is left over.
  if (owner.hostname !== hostname()) return false;
  // Our own pid, but the directory is not held by this process: a previous run with the same pid
  // (common for pid 1 in containers) was killed.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    // EPERM: the process exists but belongs to another user.
  }
  const stat = readProcessStat(owner.pid);
  // Killed but not yet reaped by its parent: it holds no files any more.
  if (stat?.state === "Z" || stat?.state === "X") return false;
  if (owner.processStart !== undefined && stat !== undefined && stat.start !== owner.processStart) {
    return false; // the pid was reused by another process
  }
  return true;
}

/** The state (field 3) and start time (field 22) of /proc/<pid>/stat; undefined off Linux. */
function readProcessStat(pid: number): { state: string | undefined; start: string | undefined } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const afterName = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: afterName[0], start: afterName[19] };
  } catch {
    return undefined;
  }
}

function readProcessStart(pid: number): string | undefined {
  return readProcessStat(pid)?.start;
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
