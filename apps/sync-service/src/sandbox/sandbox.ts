/**
 * The sandbox: `linq-sync serve` with no LINQ_API_TOKEN. Everything is local: a Linq simulator (and,
 * as connectors arrive, their platforms' simulators), the embedded database in
 * `<LINQ_SYNC_DATA_DIR>/sandbox` (reset at every start, because the simulators keep their state in
 * memory), and a webhook subscription from the simulator to the service. Credentials are never used here.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type ConnectorLogger, type ConnectorV1, linqEventTypes } from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import { createSlackConnector, mappingKinds } from "@linq-connect/slack";
import { type SlackSimulator, startSlackSimulator } from "@linq-connect/slack/testing";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { z } from "zod";
import { type ApplicationParts, type RunningApplication, startApplication } from "../application.ts";
import type { ServiceSettings } from "../config/environment.ts";
import type { Route, RoutingConfig } from "../config/routing.ts";
import { defaultSlackInternalPrefix } from "../config/routing.ts";

export const SANDBOX_LINQ_NUMBER = "+15550001111";
export const SANDBOX_CUSTOMER_NUMBER = "+15551234567";
export const SANDBOX_SLACK_CHANNEL = "C0SANDBOX";
export const SANDBOX_SLACK_AGENT = "U0ALEX";

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
  slackSimulator: SlackSimulator;
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

/**
 * Without a routing file the sandbox mirrors every conversation into its Slack simulator's channel, so a
 * newcomer sees the mirror work at once. A routing file is used as written.
 */
export function sandboxRouting(routing: RoutingConfig): RoutingConfig {
  if (routing.source !== "environment") return routing;
  const routes: Route[] = routing.routes.map((route) =>
    route.slack === undefined
      ? {
          ...route,
          slack: {
            channel: SANDBOX_SLACK_CHANNEL,
            internalPrefix: defaultSlackInternalPrefix,
            mode: "two-way",
            reactions: {},
            postTypingIndicators: false,
          } as NonNullable<Route["slack"]>,
        }
      : route,
  );
  return { ...routing, routes };
}

export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const webhookSecret = randomBytes(24).toString("hex");
  const linqSimulator = await startLinqSimulator({ phoneNumbers: [SANDBOX_LINQ_NUMBER] });
  const routing = sandboxRouting(options.routing);
  const slackChannels = [
    ...new Set(routing.routes.flatMap((route) => (route.slack === undefined ? [] : [route.slack.channel]))),
  ];
  const slackSimulator = await startSlackSimulator({
    channels: slackChannels.map((id) => ({
      id,
      name: id === SANDBOX_SLACK_CHANNEL ? "linq-sandbox" : id.toLowerCase(),
    })),
    users: [{ id: SANDBOX_SLACK_AGENT, name: "alex", realName: "Alex Agent", email: "alex@example.com" }],
  });
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
    const slackConnector = createSlackConnector({
      botToken: slackSimulator.botToken,
      signingSecret: slackSimulator.signingSecret,
      apiUrl: slackSimulator.apiUrl,
      routes: routing.routes,
      logger: options.logger.child({ connector: "slack" }) as unknown as ConnectorLogger,
    });
    const application = await startApplication({
      settings,
      routing,
      logger: options.logger,
      connectors: options.connectors ?? [slackConnector],
      ...(options.port === undefined ? {} : { port: options.port }),
      register: (server, parts) => registerSandboxRoutes(server, parts, linqSimulator, slackSimulator),
    });
    await slackSimulator.configureApp({
      eventsUrl: `${application.url}/slack/events`,
      commandsUrl: `${application.url}/slack/commands`,
      interactionsUrl: `${application.url}/slack/interactions`,
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
      slackSimulator,
      linqNumber: SANDBOX_LINQ_NUMBER,
      stop: async () => {
        await application.stop();
        await linqSimulator.close();
        await slackSimulator.close();
      },
    };
  } catch (error) {
    await linqSimulator.close();
    await slackSimulator.close();
    throw error;
  }
}

const slackReplySchema = z.strictObject({
  text: z.string().min(1).default("Yes, it ships today!"),
  chatId: z.number().int().optional(),
});

function registerSandboxRoutes(
  server: FastifyInstance,
  parts: ApplicationParts,
  simulator: LinqSimulator,
  slackSimulator: SlackSimulator,
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
  // An agent answers in the Slack thread of a chat (the latest one by default): the connector sends it to Linq.
  server.post("/sandbox/slack/reply", async (request, reply) => {
    const parsed = slackReplySchema.safeParse(readBody(request.body));
    if (!parsed.success) return reply.code(400).send({ error: "bad_request", issues: parsed.error.issues });
    const chatId = parsed.data.chatId ?? simulator.state.chats().at(-1)?.id;
    const thread =
      chatId === undefined ? undefined : await parts.mappingStore.findByLinqId(mappingKinds.thread, String(chatId));
    if (thread === undefined) return reply.code(404).send({ error: "no_thread", chatId: chatId ?? null });
    const [channel, threadTs] = thread.externalId.split(":");
    const message = await slackSimulator.users.post({
      user: SANDBOX_SLACK_AGENT,
      channel: channel ?? "",
      threadTs: threadTs ?? "",
      text: parsed.data.text,
    });
    return reply.code(201).send({ channel, ts: message.ts });
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
  Slack simulator  ${sandbox.slackSimulator.baseUrl}  (open it in a browser: channels and threads)

1. Simulate a customer texting your Linq number:
     curl -X POST ${url}/sandbox/linq/text -H 'content-type: application/json' \\
          -d '{"from":"${SANDBOX_CUSTOMER_NUMBER}","text":"Hi! Is my order ready?"}'
2. The simulator signs and delivers the message.received webhook to ${url}/webhooks/linq;
   the service verifies it, stores it and queues it for the route's connectors.
3. Open ${sandbox.slackSimulator.baseUrl} in a browser: the conversation is a thread in #linq-sandbox.
4. Answer as an agent in Slack (the connector texts it to the customer through Linq):
     curl -X POST ${url}/sandbox/slack/reply -H 'content-type: application/json' -d '{"text":"Yes, it ships today!"}'
5. See what happened:
     curl ${url}/sandbox/events
     curl ${url}/metrics | grep linq_sync_events
`;
}
