#!/usr/bin/env node
// linq-sync — the sync service's command line.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigurationError } from "@linq-connect/core";
import { createLogger } from "./logger.ts";
import { type LinqSandbox, startLinqSandbox } from "./sandbox/linq-sandbox.ts";
import { startService } from "./service.ts";

const usage = `Usage: linq-sync <command>

Commands:
  serve     run the service (with no LINQ_API_TOKEN: the sandbox on a local Linq simulator)
  help      show this help

Environment: PORT (3000), LINQ_API_TOKEN, LINQ_WEBHOOK_SECRET, LOG_LEVEL (info).`;

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new TypeError("expected an object");
  return parsed as Record<string, unknown>;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function serve(): Promise<void> {
  const logger = createLogger();
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigurationError(`PORT must be a port number`);
  const token = process.env.LINQ_API_TOKEN;
  const onEvent = (event: { event_type: string; event_id: string }) => {
    logger.info({ eventType: event.event_type, eventId: event.event_id }, "linq event received");
  };

  if (token === undefined || token === "") {
    const webhookSecret = randomBytes(24).toString("hex");
    let sandbox: LinqSandbox | undefined;
    const service = await startService({
      port,
      webhookSecret,
      logger,
      onEvent,
      extraRoutes: async (request, response) => {
        const path = new URL(request.url ?? "/", "http://localhost").pathname;
        if (path !== "/sandbox/linq/text" || request.method !== "POST" || sandbox === undefined) return false;
        try {
          const body = await readJson(request);
          const result = await sandbox.simulator.inbound.text({
            from: String(body.from ?? "+15551234567"),
            text: String(body.text ?? "Hello from the sandbox"),
          });
          sendJson(response, 201, result);
        } catch (error) {
          sendJson(response, 400, { error: error instanceof Error ? error.message : String(error) });
        }
        return true;
      },
    });
    sandbox = await startLinqSandbox({ webhookUrl: `${service.url}/webhooks/linq`, webhookSecret });
    logger.info({ url: service.url, linqSimulator: sandbox.simulator.baseUrl }, "sandbox started");
    process.stdout.write(`
linq-sync sandbox is running (no credentials: everything is local)
  service         ${service.url}   (GET /healthz)
  Linq simulator  ${sandbox.simulator.baseUrl}   (token ${sandbox.simulator.token}, number ${sandbox.linqNumber})

Simulate a customer texting your Linq number:
  curl -X POST ${service.url}/sandbox/linq/text -H 'content-type: application/json' \\
       -d '{"from":"+15551234567","text":"Hi, is my order ready?"}'
The signed message.received webhook arrives at ${service.url}/webhooks/linq and is logged here.
`);
    shutdownOn(async () => {
      await service.close();
      await sandbox?.close();
    });
    return;
  }

  const secret = process.env.LINQ_WEBHOOK_SECRET;
  if (secret === undefined || secret === "") {
    throw new ConfigurationError("LINQ_WEBHOOK_SECRET is required when LINQ_API_TOKEN is set");
  }
  const service = await startService({ port, host: "0.0.0.0", webhookSecret: secret, logger, onEvent });
  logger.info({ url: service.url }, "service started");
  shutdownOn(() => service.close());
}

function shutdownOn(close: () => Promise<void>): void {
  const stop = () => {
    void close().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

const command = process.argv[2] ?? "help";
if (command === "serve") {
  serve().catch((error: unknown) => {
    process.stderr.write(`linq-sync serve: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
} else if (command === "help" || command === "--help" || command === "-h") {
  process.stdout.write(`${usage}\n`);
} else {
  process.stderr.write(`linq-sync: unknown command ${JSON.stringify(command)}\n\n${usage}\n`);
  process.exit(2);
}
