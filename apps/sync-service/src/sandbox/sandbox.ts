/**
 * The sandbox: `linq-sync serve` with no LINQ_API_TOKEN. Everything is local: a Linq simulator, a Slack
 * simulator, a HubSpot simulator when a route uses HubSpot (the default route does), a Salesforce simulator
 * when a route uses Salesforce (`crm: salesforce` in the routing file, or CRM_PROVIDER=salesforce), the
 * embedded database in
 * `<LINQ_SYNC_DATA_DIR>/sandbox` (reset at every start, because the simulators keep their state in
 * memory), and a webhook subscription from the simulator to the service. Credentials are never used here.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type ConnectorLogger, type ConnectorV1, linqEventTypes } from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import { type HubSpotSimulator, startHubSpotSimulator } from "@linq-connect/hubspot/testing";
import { type SalesforceSimulator, startSalesforceSimulator } from "@linq-connect/salesforce/testing";
import { createSlackConnector, mappingKinds } from "@linq-connect/slack";
import { type SlackSimulator, startSlackSimulator } from "@linq-connect/slack/testing";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { z } from "zod";
import { type ApplicationParts, type RunningApplication, startApplication } from "../application.ts";
import { createHubSpotConnectorFor, createSalesforceConnectorFor } from "../commands/connectors.ts";
import type { ServiceSettings } from "../config/environment.ts";
import type { Route, RoutingConfig } from "../config/routing.ts";
import { defaultSlackInternalPrefix } from "../config/routing.ts";
import { ServiceMetrics } from "../metrics.ts";

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
  /** Started when a route uses HubSpot (the default route does, unless CRM_PROVIDER says otherwise). */
  hubspotSimulator: HubSpotSimulator | undefined;
  /** Started when a route uses Salesforce (`crm: salesforce`). */
  salesforceSimulator: SalesforceSimulator | undefined;
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
 * Without a routing file the sandbox mirrors every conversation into its Slack simulator's channel and,
 * unless CRM_PROVIDER says otherwise, syncs contacts with its HubSpot simulator (two-way) and logs every
 * message there, so a newcomer sees Slack and HubSpot work at once. A routing file is used as written.
 */
export function sandboxRouting(
  routing: RoutingConfig,
  settings: Pick<ServiceSettings, "crmProviderIsExplicit">,
): RoutingConfig {
  if (routing.source !== "environment") return routing;
  const routes: Route[] = routing.routes.map((route) => {
    const withSlack: Route =
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
        : route;
    return settings.crmProviderIsExplicit
      ? withSlack
      : { ...withSlack, crm: "hubspot", contacts: "two-way", activities: "per-message" };
  });
  // The environment route's warnings (e.g. "nothing is forwarded") no longer apply to the sandbox's route.
  return { ...routing, routes, warnings: [] };
}

/** The HubSpot settings of the sandbox: its simulator's credentials, never the environment's. */
function sandboxHubSpotSettings(simulator: HubSpotSimulator): ServiceSettings["hubspot"] {
  return {
    accessToken: simulator.accessToken,
    clientSecret: simulator.clientSecret,
    baseUrl: simulator.baseUrl,
    appId: String(simulator.appId),
    // The simulator calls the service's local URL, which the connector rebuilds from each request.
    webhookUrl: undefined,
  };
}

/**
 * The Salesforce settings of the sandbox: its simulator's connected app and tokens, never the
 * environment's. The refresh token lets the connector renew the simulator's sessions as it would a real org's.
 */
function sandboxSalesforceSettings(
  simulator: SalesforceSimulator,
  configured: ServiceSettings["salesforce"],
): ServiceSettings["salesforce"] {
  return {
    ...configured,
    instanceUrl: simulator.instanceUrl,
    loginUrl: simulator.loginUrl,
    accessToken: simulator.issueAccessToken(),
    refreshToken: simulator.issueRefreshToken(),
    clientId: simulator.clientId,
    clientSecret: simulator.clientSecret,
    username: undefined,
    privateKey: undefined,
    privateKeyFile: undefined,
  };
}

export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const webhookSecret = randomBytes(24).toString("hex");
  const linqSimulator = await startLinqSimulator({ phoneNumbers: [SANDBOX_LINQ_NUMBER] });
  const routing = sandboxRouting(options.routing, options.settings);
  const usesHubSpot = routing.routes.some((route) => route.crm === "hubspot");
  const usesSalesforce = routing.routes.some((route) => route.crm === "salesforce");
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
  let hubspotSimulator: HubSpotSimulator | undefined;
  let salesforceSimulator: SalesforceSimulator | undefined;
  const closeSimulators = async () => {
    await linqSimulator.close();
    await slackSimulator.close();
    await hubspotSimulator?.close();
    await salesforceSimulator?.close();
  };
  try {
    if (usesHubSpot) hubspotSimulator = await startHubSpotSimulator();
    if (usesSalesforce) salesforceSimulator = await startSalesforceSimulator();
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
      ...(hubspotSimulator === undefined ? {} : { hubspot: sandboxHubSpotSettings(hubspotSimulator) }),
      ...(salesforceSimulator === undefined
        ? {}
        : { salesforce: sandboxSalesforceSettings(salesforceSimulator, options.settings.salesforce) }),
    };
    const metrics = new ServiceMetrics();
    const slackConnector = createSlackConnector({
      botToken: slackSimulator.botToken,
      signingSecret: slackSimulator.signingSecret,
      apiUrl: slackSimulator.apiUrl,
      routes: routing.routes,
      logger: options.logger.child({ connector: "slack" }) as unknown as ConnectorLogger,
    });
    const connectors: ConnectorV1[] = [slackConnector];
    if (hubspotSimulator !== undefined && options.connectors === undefined) {
      connectors.push(
        createHubSpotConnectorFor(settings, {
          routing,
          logger: options.logger,
          recordUpstream: (service, status) => metrics.recordUpstream(service, status),
        }),
      );
    }
    if (salesforceSimulator !== undefined && options.connectors === undefined) {
      connectors.push(
        createSalesforceConnectorFor(settings, {
          routing,
          logger: options.logger,
          recordUpstream: (service, status) => metrics.recordUpstream(service, status),
        }),
      );
    }
    const application = await startApplication({
      settings,
      routing,
      logger: options.logger,
      metrics,
      connectors: options.connectors ?? connectors,
      ...(options.port === undefined ? {} : { port: options.port }),
      register: (server, parts) => registerSandboxRoutes(server, parts, linqSimulator, slackSimulator),
    });
    await slackSimulator.configureApp({
      eventsUrl: `${application.url}/slack/events`,
      commandsUrl: `${application.url}/slack/commands`,
      interactionsUrl: `${application.url}/slack/interactions`,
    });
    if (hubspotSimulator !== undefined) {
      hubspotSimulator.webhooks.configure({ targetUrl: `${application.url}/webhooks/hubspot` });
    }
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
      hubspotSimulator,
      salesforceSimulator,
      linqNumber: SANDBOX_LINQ_NUMBER,
      stop: async () => {
        await application.stop();
        await closeSimulators();
      },
    };
  } catch (error) {
    await closeSimulators();
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
      chatId === undefined
        ? undefined
        : await parts.mappingStore.findByLinqId(mappingKinds.thread, String(chatId));
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
  const hubspot = sandbox.hubspotSimulator;
  const salesforce = sandbox.salesforceSimulator;
  return `
linq-sync sandbox is running: no credentials, embedded database, local simulators.

  service            ${url}  (GET /healthz, /readyz, /metrics)
  Linq simulator     ${sandbox.linqSimulator.baseUrl}  (token ${sandbox.linqSimulator.token}, your number ${sandbox.linqNumber})
  routes             ${sandbox.application.routing.routes.map((route) => route.name).join(", ")}
  connectors         ${[...sandbox.application.connectors.keys()].join(", ") || "none configured"}
  Slack simulator    ${sandbox.slackSimulator.baseUrl}  (open it in a browser: channels and threads)
${hubspot === undefined ? "" : `  HubSpot simulator  ${hubspot.baseUrl}  (open it in a browser: contacts and their timelines)\n`}${salesforce === undefined ? "" : `  Salesforce simulator  ${salesforce.instanceUrl}  (open it in a browser: Contacts and Leads with their Tasks)\n`}
1. Simulate a customer texting your Linq number:
     curl -X POST ${url}/sandbox/linq/text -H 'content-type: application/json' \\
          -d '{"from":"${SANDBOX_CUSTOMER_NUMBER}","text":"Hi! Is my order ready?"}'
2. The simulator signs and delivers the message.received webhook to ${url}/webhooks/linq;
   the service verifies it, stores it and queues it for the route's connectors.
3. Open ${sandbox.slackSimulator.baseUrl} in a browser: the conversation is a thread in #linq-sandbox.${
    hubspot === undefined
      ? ""
      : `
   Open ${hubspot.baseUrl} in a browser: the customer is a HubSpot contact, the text a Communication
   in its timeline (contacts sync both ways: a HubSpot change reaches Linq through ${url}/webhooks/hubspot).`
  }${
    salesforce === undefined
      ? ""
      : `
   Open ${salesforce.instanceUrl} in a browser: the customer is a Salesforce Contact (or Lead), the text a
   Task on it (contacts sync both ways: Salesforce changes are polled every ${sandbox.application.settings.salesforce.pollIntervalSeconds} s).`
  }
4. Answer as an agent in Slack (the connector texts it to the customer through Linq):
     curl -X POST ${url}/sandbox/slack/reply -H 'content-type: application/json' -d '{"text":"Yes, it ships today!"}'
5. See what happened:
     curl ${url}/sandbox/events
     curl ${url}/metrics | grep linq_sync_events
`;
}
