#!/usr/bin/env node
// linq-sync — the sync service's command line.
import { Command, CommanderError } from "commander";
import { serve } from "./commands/serve.ts";
import { loadSettings } from "./config/environment.ts";
import { createLogger } from "./logger.ts";

export function createProgram(): Command {
  const program = new Command("linq-sync")
    .description("Connects the Linq Partner API to Slack, HubSpot and Salesforce.")
    .showHelpAfterError()
    .exitOverride();

  program
    .command("serve")
    .description("run the service (with no LINQ_API_TOKEN: the sandbox on local simulators)")
    .action(async () => {
      const settings = loadSettings();
      const logger = createLogger({ level: settings.logLevel });
      const handle = await serve({ settings, logger });
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, "shutdown requested");
        const timer = setTimeout(
          () => {
            logger.error({}, "shutdown timed out; exiting");
            process.exit(1);
          },
          (settings.shutdownTimeoutSeconds + 10) * 1000,
        );
        timer.unref();
        void handle.stop().then(() => process.exit(0));
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
  return program;
}

export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`linq-sync: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  const code = await runCli(process.argv.slice(2));
  if (code !== 0) process.exit(code);
}
