/**
 * Starts `service-process.test-helpers.ts` as a child process (the parent's side: spawn, wait for its
 * URL, kill -9 it, stop it with SIGTERM, ask it over IPC). Free of vitest, so the benchmark uses it too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Recording } from "../test-support/recording-connector.ts";
import type { ServiceProcessCommand, ServiceProcessMemory } from "./service-process.test-helpers.ts";

export const serviceProcessScript = fileURLToPath(
  new URL("./service-process.test-helpers.ts", import.meta.url),
);

export interface ServiceProcessOptions {
  /** The child's whole environment besides PATH, HOME and TMPDIR (nothing else is inherited). */
  environment: Record<string, string>;
  /** Node.js flags, e.g. ["--expose-gc"]. */
  nodeArguments?: string[];
  startTimeoutMs?: number;
  /** A label for messages. */
  name?: string;
}

export interface ServiceProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (and was reaped). */
  readonly exited: Promise<ServiceProcessExit>;
  /** The last 64 KB of its stderr (its logs). */
  logs(): string;
  /** kill -9, then waits for the exit. */
  kill(): Promise<ServiceProcessExit>;
  /** SIGTERM (graceful shutdown), then waits for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<ServiceProcessExit>;
  memory(): Promise<ServiceProcessMemory>;
  collectGarbage(): Promise<void>;
  resetPeakMemory(): Promise<void>;
  /** Everything the recording connector wrote, read by the child from its own database. */
  recording(): Promise<Recording>;
  /** How many effects the recording connector wrote. */
  effectCount(): Promise<number>;
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const name = options.name ?? "service";
  const inherited: Record<string, string> = {};
  for (const variable of ["PATH", "HOME", "TMPDIR"]) {
    const value = process.env[variable];
    if (value !== undefined) inherited[variable] = value;
  }
  const child = spawn(process.execPath, [...(options.nodeArguments ?? []), serviceProcessScript], {
    env: { ...inherited, ...options.environment },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-65_536);
  });
  const exited = new Promise<ServiceProcessExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  child.on("message", (message: { id: number; result?: unknown; error?: string }) => {
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(`${name}: ${message.error}`));
    else waiter.resolve(message.result);
  });
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited`));
    pending.clear();
  });
  const ask = <T>(command: ServiceProcessCommand): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) {
        reject(new Error(`${name} is not running`));
        return;
      }
      const id = nextId;
      nextId += 1;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, command });
    });

  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    let stdout = "";
    const timeout = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${stderr}`));
    }, options.startTimeoutMs ?? 30_000);
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
      const line = stdout.split("\n").find((candidate) => candidate.startsWith("{"));
      if (line === undefined || !stdout.includes("\n")) return;
      clearTimeout(timeout);
      try {
        resolve(JSON.parse(line) as { url: string; pid: number });
      } catch (error) {
        reject(error as Error);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timeout);
      reject(new Error(`${name} exited while starting (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });

  return {
    name,
    url: ready.url,
    pid: ready.pid,
    child,
    exited,
    logs: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      return exited;
    },
    async stop(timeoutMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    memory: () => ask<ServiceProcessMemory>("memory"),
    async collectGarbage() {
      await ask("gc");
    },
    async resetPeakMemory() {
      await ask("reset-peak");
    },
    recording: () => ask<Recording>("recording"),
    effectCount: () => ask<number>("effect-count"),
  };
}
