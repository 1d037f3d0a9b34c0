/**
 * Shared pieces of the tests of the connectors' batch backfills through the CLI (HubSpot, Salesforce):
 * Linq contacts to backfill, and `linq-sync` run with captured output.
 */
import type { LinqClient } from "@linq-connect/core";
import { runCli } from "../cli.ts";
import { captureStream } from "../commands/command.test-helpers.ts";

/** The phone number of the index-th backfilled contact: `+1555<series><index, 4 digits>`. */
export function backfillPhone(series: string, index: number): string {
  return `+1555${series}${String(index).padStart(4, "0")}`;
}

/** `count` Linq contacts with distinct numbers, every third with an email. */
export async function createLinqContacts(
  linq: LinqClient,
  count: number,
  phoneOf: (index: number) => string,
): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await linq.createContact({
      contact: {
        first_name: `First${index}`,
        last_name: `Last${index}`,
        phone_number: phoneOf(index),
        ...(index % 3 === 0 ? { email: `person${index}@example.com` } : {}),
      },
    });
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `linq-sync` with the real connector factory and `environment()` (read at each call), and keeps
 * every output in `outputs` (for the no-secret check).
 */
export function cliRunner(
  environment: () => NodeJS.ProcessEnv,
  outputs: string[],
): (argv: string[], options?: { signal?: AbortSignal; env?: NodeJS.ProcessEnv }) => Promise<CliResult> {
  return async (argv, options = {}) => {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await runCli(argv, {
      environment: options.env ?? environment(),
      stdout,
      stderr,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    outputs.push(stdout.text, stderr.text);
    return { code, stdout: stdout.text, stderr: stderr.text };
  };
}
