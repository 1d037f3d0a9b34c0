/**
 * The Slack flow through the sync-service, for end-to-end tests: a Linq simulator, a Slack simulator
 * and one or more service instances (`startApplication`, as `linq-sync serve` composes it) running the
 * real Slack connector, wired over real HTTP the way production is:
 *
 * - Linq → service: a webhook subscription of the Linq simulator to the service's `/webhooks/linq`,
 *   signed with the subscription's secret;
 * - service → Slack: the connector's @slack/web-api client against the Slack simulator's Web API;
 * - Slack → service: the Slack simulator delivers signed Events API requests, slash commands and
 *   interactions to the service's `/slack/*` routes (Bolt verifies them);
 * - service → Linq: the service's LinqClient against the Linq simulator.
 *
 * With several replicas (one PostgreSQL database), both simulators deliver to a small proxy in front of
 * them that alternates the target of every request, as a round-robin load balancer would.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { type ConnectorLogger, linqEventTypes } from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";
import { createSlackConnector, mappingKinds } from "@linq-connect/slack";
import {
  type SlackRateLimitOptions,
  type SlackSimulator,
  type SlackSimulatorOptions,
  startSlackSimulator,
} from "@linq-connect/slack/testing";
import { Agent, request } from "undici";
import { type RunningApplication, startApplication } from "../application.ts";
import { loadSettings } from "../config/environment.ts";
import { parseRoutingConfig, type RoutingConfig } from "../config/routing.ts";
import type { Database } from "../database/database-types.ts";
import { createLogger } from "../logger.ts";

export const SUPPORT_NUMBER = "+15550001111";
export const CLOSED_NUMBER = "+15550002222";
export const SUPPORT_CHANNEL = "C0SUPPORT";
/** The channel of the route of CLOSED_NUMBER; the archived-channel scenario archives it. */
export const CLOSED_CHANNEL = "C0CLOSED";
export const AGENT = "U0ALEX";

export const flowRoutingYaml = `routes:
  - name: closed
    match: { linqNumbers: ["${CLOSED_NUMBER}"] }
    slack: { channel: ${CLOSED_CHANNEL} }
  - name: support
    match: { linqNumbers: ["${SUPPORT_NUMBER}"] }
    slack: { channel: ${SUPPORT_CHANNEL} }
`;

export function flowRouting(): RoutingConfig {
  return parseRoutingConfig(flowRoutingYaml, { fileName: "slack-flow-routing.yaml", environment: {} });
}

/** The service's logs at warn and above, kept in memory for failure messages. */
export class LogLines extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") this.lines.push(line);
    if (this.lines.length > 400) this.lines.splice(0, this.lines.length - 400);
    callback();
  }

  tail(count = 8): string {
    return this.lines.slice(-count).join("\n");
  }
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** One request the round-robin proxy forwarded. */
export interface ProxiedRequest {
  path: string;
  /** The index of the replica it went to. */
  replica: number;
  status: number | undefined;
}

/** A round-robin HTTP proxy: each request goes to the next target, body and headers unchanged. */
export interface RoundRobinProxy {
  url: string;
  readonly forwarded: ProxiedRequest[];
  close(): Promise<void>;
}

const hopByHopHeaders = new Set([
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "proxy-connection",
  "upgrade",
]);

function forwardableHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHopHeaders.has(name.toLowerCase())) continue;
    result[name] = value;
  }
  return result;
}

export async function startRoundRobinProxy(targets: readonly string[]): Promise<RoundRobinProxy> {
  const agent = new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 });
  const forwarded: ProxiedRequest[] = [];
  let next = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const replica = next % targets.length;
      next += 1;
      const record: ProxiedRequest = { path: incoming.url ?? "/", replica, status: undefined };
      forwarded.push(record);
      const body = Buffer.concat(chunks);
      request(`${targets[replica]}${incoming.url ?? "/"}`, {
        method: (incoming.method ?? "GET") as "POST",
        headers: forwardableHeaders(incoming.headers),
        ...(body.length === 0 ? {} : { body }),
        dispatcher: agent,
      })
        .then(async (answer) => {
          const payload = Buffer.from(await answer.body.arrayBuffer());
          record.status = answer.statusCode;
          outgoing.writeHead(answer.statusCode, forwardableHeaders(answer.headers));
          outgoing.end(payload);
        })
        .catch(() => {
          outgoing.writeHead(502, { "content-type": "text/plain" });
          outgoing.end("bad gateway");
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.destroy();
    },
  };
}

export interface SlackFlowOptions {
  /** One database per service instance (each instance gets its own handle, as a process would). */
  databases: readonly Database[];
  /** Extra Slack simulator options (rate limits, …). */
  slack?: SlackSimulatorOptions;
}

export interface SlackFlow {
  linq: LinqSimulator;
  slack: SlackSimulator;
  /** The service instances. */
  replicas: RunningApplication[];
  /** Where both simulators deliver: the only instance, or the round-robin proxy. */
  entryUrl: string;
  proxy: RoundRobinProxy | undefined;
  logs: LogLines;
  /** The `[channel, ts]` of a chat's thread as the service recorded it. */
  threadOf(chatId: number): Promise<{ channel: string; ts: string } | undefined>;
  /** Every message text of a chat's thread (the header first), from the Slack simulator. */
  threadTexts(chatId: number): Promise<string[]>;
  /** Resolves when both simulators have delivered everything and no job is queued, running or retrying. */
  settle(options?: { timeoutMs?: number }): Promise<void>;
  /** Polls `condition` until it holds; a timeout names `what` and the service's latest warnings. */
  waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Slack's real pacing (one message per second per channel) is tested in @linq-connect/slack and
 * measured by the benchmark; here both sides allow 50 a second so that a burst of 50 fits the test's
 * time budget. conversations.history/replies stay at tier 3, as for an internal (customer-built) app:
 * the connector reads them only to reconcile after an ambiguous failure (a 500).
 */
const fastSlackRateLimits: SlackRateLimitOptions = {
  postMessagePerChannel: { perSecond: 50, burst: 50 },
  methods: {
    "conversations.replies": { perMinute: 50 },
    "conversations.history": { perMinute: 50 },
  },
};

export async function startSlackFlow(options: SlackFlowOptions): Promise<SlackFlow> {
  const logs = new LogLines();
  const logger = createLogger({ level: process.env.SLACK_FLOW_LOG_LEVEL ?? "warn", destination: logs });
  const webhookSecret = `whsec_${randomBytes(16).toString("hex")}`;
  const linq = await startLinqSimulator({
    token: `linq_${randomBytes(12).toString("hex")}`,
    phoneNumbers: [SUPPORT_NUMBER, CLOSED_NUMBER],
    webhookDelivery: { retries: 3, retryDelayMs: 200 },
  });
  const slack = await startSlackSimulator({
    channels: [
      { id: SUPPORT_CHANNEL, name: "support" },
      { id: CLOSED_CHANNEL, name: "closed" },
    ],
    users: [{ id: AGENT, name: "alex", realName: "Alex Agent", email: "alex@example.com" }],
    rateLimits: fastSlackRateLimits,
    eventDelivery: { retryDelaysMs: [0, 200, 500] },
    ...options.slack,
  });
  const replicas: RunningApplication[] = [];
  let proxy: RoundRobinProxy | undefined;
  const stopAll = async () => {
    await proxy?.close();
    for (const replica of replicas) await replica.stop();
    await linq.close();
    await slack.close();
  };
  try {
    const settings = loadSettings({
      LINQ_API_TOKEN: linq.token,
      LINQ_API_BASE_URL: linq.baseUrl,
      LINQ_WEBHOOK_SECRET: webhookSecret,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: slack.signingSecret,
      SLACK_API_URL: slack.apiUrl,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      JOB_CONCURRENCY: "4",
      JOB_RETRY_LIMIT: "8",
      JOB_RETRY_DELAY_SECONDS: "1",
    });
    const routing = flowRouting();
    for (const [index, database] of options.databases.entries()) {
      const replicaLogger = logger.child({ replica: index });
      const connector = createSlackConnector({
        botToken: settings.slack.botToken ?? "",
        ...(settings.slack.signingSecret === undefined
          ? {}
          : { signingSecret: settings.slack.signingSecret }),
        apiUrl: settings.slack.apiUrl,
        routes: routing.routes,
        pacing: { perChannelPerSecond: 50, perChannelBurst: 50 },
        // No multi-segment SMS here, but never hold a reply for a Cancel in these tests.
        smsCancelWindowSeconds: 0,
        logger: replicaLogger.child({ connector: "slack" }) as unknown as ConnectorLogger,
      });
      replicas.push(
        await startApplication({
          settings,
          routing,
          logger: replicaLogger,
          connectors: [connector],
          database,
          port: 0,
          // Retries after about a second, so that a fault costs the test little time.
          queueOptions: { retryDelayMaxSeconds: 1, pollingIntervalSeconds: 0.5 },
        }),
      );
    }
    const first = replicas[0];
    if (first === undefined) throw new Error("startSlackFlow needs at least one database");
    if (replicas.length > 1) proxy = await startRoundRobinProxy(replicas.map((replica) => replica.url));
    const entryUrl = proxy?.url ?? first.url;
    await slack.configureApp({
      eventsUrl: `${entryUrl}/slack/events`,
      commandsUrl: `${entryUrl}/slack/commands`,
      interactionsUrl: `${entryUrl}/slack/interactions`,
    });
    await first.linq.createWebhookSubscription({
      webhook_url: `${entryUrl}/webhooks/linq`,
      events: [...linqEventTypes],
      secret: webhookSecret,
      active: true,
    });

    const waitFor = async (
      condition: () => boolean | Promise<boolean>,
      what: string,
      timeoutMs = 15_000,
    ): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) {
          throw new Error(
            `Timed out after ${timeoutMs} ms waiting for ${what}. Latest service warnings:\n${logs.tail()}`,
          );
        }
        await sleep(40);
      }
    };

    const threadOf = async (chatId: number) => {
      const mapping = await first.mappingStore.findByLinqId(mappingKinds.thread, String(chatId));
      if (mapping === undefined) return undefined;
      const separator = mapping.externalId.indexOf(":");
      return {
        channel: mapping.externalId.slice(0, separator),
        ts: mapping.externalId.slice(separator + 1),
      };
    };

    return {
      linq,
      slack,
      replicas,
      entryUrl,
      proxy,
      logs,
      threadOf,
      async threadTexts(chatId) {
        const thread = await threadOf(chatId);
        if (thread === undefined) return [];
        return slack.state.thread(thread.channel, thread.ts).map((message) => message.text);
      },
      async settle(settleOptions = {}) {
        const timeoutMs = settleOptions.timeoutMs ?? 20_000;
        const deadline = Date.now() + timeoutMs;
        let quietRounds = 0;
        let lastDepth = "";
        while (quietRounds < 2) {
          if (Date.now() > deadline) {
            throw new Error(
              `The flow did not settle within ${timeoutMs} ms (queue: ${lastDepth}). Latest service warnings:\n${logs.tail()}`,
            );
          }
          await linq.webhooks.flush();
          await slack.events.flush();
          // Every replica shares one database (one queue): the first one's view is everyone's.
          const depth = await first.queue.depth();
          lastDepth = JSON.stringify(depth);
          const busy = Object.values(depth).reduce(
            (total, entry) => total + entry.queued + entry.active + entry.retry,
            0,
          );
          quietRounds = busy === 0 ? quietRounds + 1 : 0;
          await sleep(busy === 0 ? 100 : 40);
        }
      },
      waitFor,
      close: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
