/**
 * The sandbox: `linq-sync serve` with no LINQ_API_TOKEN. Everything is local: a Linq simulator (and,
 * as connectors arrive, their platforms' simulators), the embedded database in
 * `<LINQ_SYNC_DATA_DIR>/sandbox` (reset at every start, because the simulators keep their state in
 * memory), and a webhook subscription from the simulator to the service. Credentials are never used here.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type ConnectorV1, linqEventTypes } from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { z } from "zod";
import { type ApplicationParts, type RunningApplication, startApplication } from "../application.ts";
import type { ServiceSettings } from "../config/environment.ts";
import type { RoutingConfig } from "../config/routing.ts";

export const SANDBOX_LINQ_NUMBER = "+15550001111";
export const SANDBOX_CUSTOMER_NUMBER = "+15551234567";

export interface SandboxOptions {
  settings: ServiceSettings;
  routing: RoutingConfig;
  logger: Logger;
  connectors?: readonly ConnectorV1[];
  /** Overrides the settings' port (0: any free port). */
  port?: number;
}

export interface RunningSandbox {
  application: RunningApplication;
  linqSimulator: LinqSimulator;
  linqNumber: string;
  stop(): Promise<void>;
}

const textSchema = z.strictObject({
  from: z.string().min(1).default(SANDBOX_CUSTOMER_NUMBER),
  text: z.string().min(1).default("Hi! Is my order ready?"),
  to: z.string().min(1).optional(),
});
const callSchema = z.strictObject({
  from: z.string().min(1).default(SANDBOX_CUSTOMER_NUMBER),
  durationSeconds: z.number().int().min(0).default(95),
});

export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const webhookSecret = randomBytes(24).toString("hex");
  const linqSimulator = await startLinqSimulator({ phoneNumbers: [SANDBOX_LINQ_NUMBER] });
  try {
    const dataDirectory = join(options.settings.database.dataDirectory, "sandbox");
    if (options.settings.database.url === undefined)
      await rm(dataDirectory, { recursive: true, force: true });
    const settings: ServiceSettings = {
      ...options.settings,
      linq: {
        ...options.settings.linq,
        apiToken: linqSimulator.token,
        apiBaseUrl: linqSimulator.baseUrl,
        webhookSecret,
        previousWebhookSecrets: [],
      },
      database: { ...options.settings.database, dataDirectory },
    };
    const application = await startApplication({
      settings,
      routing: options.routing,
      logger: options.logger,
      connectors: options.connectors ?? [],
      ...(options.port === undefined ? {} : { port: options.port }),
      register: (server, parts) => registerSandboxRoutes(server, parts, linqSimulator),
    });
    await application.linq.createWebhookSubscription({
      webhook_url: `${application.url}/webhooks/linq`,
      events: [...linqEventTypes],
      secret: webhookSecret,
      active: true,
    });
    return {
      application,
      linqSimulator,
      linqNumber: SANDBOX_LINQ_NUMBER,
      stop: async () => {
        await application.stop();
        await linqSimulator.close();
      },
    };
  } catch (error) {
    await linqSimulator.close();
    throw error;
  }
}

function registerSandboxRoutes(
  server: FastifyInstance,
  parts: ApplicationParts,
  simulator: LinqSimulator,
): void {
  const readBody = (body: unknown): unknown => {
    if (!Buffer.isBuffer(body) || body.length === 0) return {};
    return JSON.parse(body.toString("utf8"));
  };
  server.post("/sandbox/linq/text", async (request, reply) => {
    const parsed = textSchema.safeParse(readBody(request.body));
    if (!parsed.success) return reply.code(400).send({ error: "bad_request", issues: parsed.error.issues });
    const result = await simulator.inbound.text({
      from: parsed.data.from,
      text: parsed.data.text,
      ...(parsed.data.to === undefined ? {} : { to: parsed.data.to }),
    });
    return reply.code(201).send({ chatId: result.chat.id, messageId: result.message.id });
  });
  server.post("/sandbox/linq/call", async (request, reply) => {
    const parsed = callSchema.safeParse(readBody(request.body));
    if (!parsed.success) return reply.code(400).send({ error: "bad_request", issues: parsed.error.issues });
    const call = await simulator.inbound.call({
      from: parsed.data.from,
      durationSeconds: parsed.data.durationSeconds,
    });
    return reply.code(201).send(call);
  });
  server.get("/sandbox/events", async () => {
    const events = await parts.eventStore.listEvents({ limit: 50 });
    return { events };
  });
}

/** What `linq-sync serve` prints in the sandbox. */
export function sandboxWalkthrough(sandbox: RunningSandbox): string {
  const url = sandbox.application.url;
  return `
linq-sync sandbox is running: no credentials, embedded database, local simulators.

  service          ${url}  (GET /healthz, /readyz, /metrics)
  Linq simulator   ${sandbox.linqSimulator.baseUrl}  (token ${sandbox.linqSimulator.token}, your number ${sandbox.linqNumber})
  routes           ${sandbox.application.routing.routes.map((route) => route.name).join(", ")}
  connectors       ${[...sandbox.application.connectors.keys()].join(", ") || "none configured"}

1. Simulate a customer texting your Linq number:
     curl -X POST ${url}/sandbox/linq/text -H 'content-type: application/json' \\
          -d '{"from":"${SANDBOX_CUSTOMER_NUMBER}","text":"Hi! Is my order ready?"}'
2. The simulator signs and delivers the message.received webhook to ${url}/webhooks/linq;
   the service verifies it, stores it and queues it for the route's connectors.
3. See what happened:
     curl ${url}/sandbox/events
     curl ${url}/metrics | grep linq_sync_events
`;
}
