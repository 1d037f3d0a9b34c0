// pnpm bench (in packages/slack): the Slack connector end to end, with the real @slack/bolt and
// @slack/web-api against the Slack simulator and the Linq simulator, through the in-test host.
//
// 1. Latency from the Linq webhook to the Slack post (p50 / p99 / max) at a steady rate spread over
//    several channels, with Slack's real pacing (1 message per second per channel, burst 3) on both
//    the connector and the simulator.
// 2. Messages per second into ONE channel (a burst into one chat) against the pacing limit, with the
//    ratio, and how many 429s Slack answered (the pacer's job is to make that zero).
// 3. A burst into one chat with the limits lifted on both sides: the connector's own ceiling for one
//    conversation (its messages are handled one at a time, in order).
//
// Figures, not assertions: nothing here fails on a number. Runs from the sources (Node's type
// stripping): no build needed. Results go to bench-results/slack-bench.{json,md} with the machine.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem, type } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startWorld, type World } from "../src/connector-harness.test-helpers.ts";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const resultsDirectory = join(packageRoot, "bench-results");
const steadySeconds = Number(process.env.BENCH_STEADY_SECONDS ?? 20);
const channelCount = Number(process.env.BENCH_CHANNELS ?? 10);
const perChannelRate = Number(process.env.BENCH_PER_CHANNEL_RATE ?? 0.5);
const burstSize = Number(process.env.BENCH_BURST ?? 30);
const ceilingMessages = Number(process.env.BENCH_CEILING_MESSAGES ?? 200);

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

function customer(index: number): string {
  return `+1555200${String(1000 + index).slice(-4)}`;
}
function linqNumber(index: number): string {
  return `+1555300${String(1000 + index).slice(-4)}`;
}
function channel(index: number): string {
  return `C0BENCH${index}`;
}

/** When the Slack simulator received the chat.postMessage carrying `marker` (ms since epoch). */
function postTimes(world: World): Map<string, number> {
  const times = new Map<string, number>();
  for (const request of world.slack.requests) {
    if (request.method !== "chat.postMessage" || request.status !== 200) continue;
    const text = typeof request.params.text === "string" ? request.params.text : "";
    const marker = /bench-[0-9]+-[0-9]+/.exec(text)?.[0];
    if (marker !== undefined && !times.has(marker)) times.set(marker, Date.parse(request.at));
  }
  return times;
}

/** When the Linq simulator started delivering the webhook of each message marker. */
function webhookTimes(world: World): Map<string, number> {
  const times = new Map<string, number>();
  for (const delivery of world.linqSimulator.webhooks.deliveries) {
    if (delivery.eventType !== "message.received" || delivery.attempt !== 1) continue;
    const marker = /bench-[0-9]+-[0-9]+/.exec(delivery.body)?.[0];
    if (marker !== undefined && !times.has(marker)) times.set(marker, Date.parse(delivery.at));
  }
  return times;
}

interface LatencyResult {
  messages: number;
  channels: number;
  ratePerSecond: number;
  p50Milliseconds: number;
  p99Milliseconds: number;
  maxMilliseconds: number;
  rateLimited: number;
}

async function steadyLatency(): Promise<LatencyResult> {
  const routes = Array.from({ length: channelCount }, (_, index) => ({
    name: `route-${index}`,
    match: { linqNumbers: [linqNumber(index)] },
    slack: { channel: channel(index) },
  }));
  const world = await startWorld({
    routes,
    slack: {
      channels: routes.map((route, index) => ({ id: route.slack.channel, name: `bench-${index}` })),
      rateLimits: { postMessagePerChannel: { perSecond: 1, burst: 3 } },
    },
    linq: { phoneNumbers: routes.map((_, index) => linqNumber(index)) },
    connector: { pacing: {} },
  });
  try {
    // Warm-up: every chat and its thread exist before measuring.
    for (let index = 0; index < channelCount; index += 1) {
      await world.linqSimulator.inbound.text({
        from: customer(index),
        to: linqNumber(index),
        text: "warm-up",
      });
    }
    await world.settle();
    await sleep(3500); // Let the channels' bursts refill.
    const interval = 1000 / (channelCount * perChannelRate);
    const total = Math.round(steadySeconds * channelCount * perChannelRate);
    const started = Date.now();
    for (let sequence = 0; sequence < total; sequence += 1) {
      const index = sequence % channelCount;
      const due = started + sequence * interval;
      if (due > Date.now()) await sleep(due - Date.now());
      void world.linqSimulator.inbound.text({
        from: customer(index),
        to: linqNumber(index),
        text: `bench-${index}-${sequence}`,
      });
    }
    await world.settle();
    const sent = webhookTimes(world);
    const posted = postTimes(world);
    const latencies = [...sent.entries()]
      .map(([marker, at]) => (posted.get(marker) ?? Number.NaN) - at)
      .filter((value) => Number.isFinite(value))
      .sort((first, second) => first - second);
    return {
      messages: latencies.length,
      channels: channelCount,
      ratePerSecond: channelCount * perChannelRate,
      p50Milliseconds: percentile(latencies, 0.5),
      p99Milliseconds: percentile(latencies, 0.99),
      maxMilliseconds: latencies.at(-1) ?? Number.NaN,
      rateLimited: world.slack.requests.filter((request) => request.status === 429).length,
    };
  } finally {
    await world.close();
  }
}

interface ThroughputResult {
  messages: number;
  limitPerSecond: number;
  burst: number;
  messagesPerSecond: number;
  ratioToLimit: number;
  rateLimited: number;
  seconds: number;
}

async function oneChannelThroughput(
  limitPerSecond: number,
  burst: number,
  messages: number,
): Promise<ThroughputResult> {
  const world = await startWorld({
    slack: { rateLimits: { postMessagePerChannel: { perSecond: limitPerSecond, burst } } },
    connector: { pacing: { perChannelPerSecond: limitPerSecond, perChannelBurst: burst } },
  });
  try {
    await world.linqSimulator.inbound.text({ from: customer(0), text: "warm-up" });
    await world.settle();
    await sleep((burst / limitPerSecond) * 1000 + 200);
    for (let sequence = 0; sequence < messages; sequence += 1) {
      await world.linqSimulator.inbound.text({ from: customer(0), text: `bench-0-${sequence}` });
    }
    await world.settle();
    const times = [...postTimes(world).values()].sort((first, second) => first - second);
    const first = times[0] ?? 0;
    const last = times.at(-1) ?? 0;
    const seconds = (last - first) / 1000;
    // The first `burst` posts go at once; the rate is measured over the paced remainder.
    const messagesPerSecond = seconds > 0 ? (times.length - 1) / seconds : Number.NaN;
    const sustained =
      times.length > burst
        ? (times.length - burst) / (((times.at(-1) ?? 0) - (times[burst - 1] ?? 0)) / 1000)
        : messagesPerSecond;
    return {
      messages: times.length,
      limitPerSecond,
      burst,
      messagesPerSecond: Number(sustained.toFixed(3)),
      ratioToLimit: Number((sustained / limitPerSecond).toFixed(3)),
      rateLimited: world.slack.requests.filter((request) => request.status === 429).length,
      seconds: Number(seconds.toFixed(2)),
    };
  } finally {
    await world.close();
  }
}

const machine = {
  cpu: cpus()[0]?.model.trim() ?? "unknown",
  cores: cpus().length,
  memoryGiB: Number((totalmem() / 1024 ** 3).toFixed(1)),
  os: type(),
  node: process.version,
};

const latency = await steadyLatency();
const paced = await oneChannelThroughput(1, 3, burstSize);
const ceiling = await oneChannelThroughput(10_000, 1, ceilingMessages);
const measuredAt = new Date().toISOString();

mkdirSync(resultsDirectory, { recursive: true });
writeFileSync(
  join(resultsDirectory, "slack-bench.json"),
  `${JSON.stringify({ measuredAt, machine, latency, paced, ceiling }, null, 2)}\n`,
);
const markdown = [
  "# @linq-connect/slack benchmarks",
  "",
  `Measured ${measuredAt} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), ${machine.os}, Node.js ${machine.node}.`,
  "Real @slack/bolt and @slack/web-api against the Slack simulator, the Linq simulator delivering signed webhooks, the in-memory host of the tests.",
  "",
  "## Linq webhook → Slack post, steady rate",
  "",
  "| channels | rate (msg/s) | messages | p50 ms | p99 ms | max ms | 429s |",
  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  `| ${latency.channels} | ${latency.ratePerSecond} | ${latency.messages} | ${latency.p50Milliseconds} | ${latency.p99Milliseconds} | ${latency.maxMilliseconds} | ${latency.rateLimited} |`,
  "",
  "From the Linq simulator starting the webhook delivery to the Slack simulator receiving the chat.postMessage (both clocks are the machine's).",
  "",
  "## Messages per second into one channel",
  "",
  "| limit (msg/s per channel) | burst | messages | sustained msg/s | ratio to limit | 429s | seconds |",
  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  `| ${paced.limitPerSecond} | ${paced.burst} | ${paced.messages} | ${paced.messagesPerSecond} | ${paced.ratioToLimit} | ${paced.rateLimited} | ${paced.seconds} |`,
  "",
  "The sustained rate excludes the initial burst. The pacer runs 10 % below the limit (its safety margin) so that clock jitter never turns into a 429.",
  "",
  "## The connector's ceiling for one conversation (limits lifted)",
  "",
  "| messages | msg/s | seconds | 429s |",
  "| ---: | ---: | ---: | ---: |",
  `| ${ceiling.messages} | ${ceiling.messagesPerSecond} | ${ceiling.seconds} | ${ceiling.rateLimited} |`,
  "",
  "One chat's messages are handled one at a time and in order (the host's ordering key), so this is one message's full round trip: store reads and writes, the attempt marker, chat.postMessage.",
  "",
].join("\n");
writeFileSync(join(resultsDirectory, "slack-bench.md"), markdown);
console.log(markdown);
