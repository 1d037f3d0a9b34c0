// pnpm bench (in packages/core): webhook verify+parse throughput and client overhead per request,
// each next to a baseline measured in the same run, written to bench-results/ with the machine described.
//
// Figures, not assertions: nothing here fails on a number.
import { createHmac } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem, type } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import { Agent, request } from "undici";
import { LinqClient, parseWebhookEvent, signWebhook, verifyWebhookSignature } from "../dist/index.js";
import { startLinqSimulator } from "../dist/testing/index.js";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const resultsDirectory = join(packageRoot, "bench-results");
const benchTimeMs = Number(process.env.BENCH_TIME_MS ?? 2000);
const secret = "bench-webhook-secret";

interface Row {
  name: string;
  baseline: string;
  operationsPerSecond: number;
  baselineOperationsPerSecond: number;
  /** ours / baseline throughput: 1.0 means as fast as the baseline. */
  throughputRatio: number;
  p50Microseconds: number;
  p99Microseconds: number;
  baselineP50Microseconds: number;
  baselineP99Microseconds: number;
}

/** A message.received event in the reference envelope, padded with text to about `targetBytes`. */
function messageEvent(targetBytes: number): string {
  const event = {
    api_version: "v2",
    created_at: "2025-05-21T15:30:00-06:00",
    data: {
      id: "27799380",
      chat_id: "324324",
      text: "",
      sent_at: "2025-05-21 15:30:00 -0600",
      is_read: false,
      from_phone: "+15551234567",
      service: "iMessage",
      reaction_id: null,
      chat_handles: [
        { identifier: "+15551234567", display_name: "John Doe", is_me: false },
        { identifier: "+15559876543", display_name: "Your Linq Number", is_me: true },
      ],
      attachments: [],
    },
    event_id: "9dabceb9-9194-4dc6-beda-892573f377b4",
    event_type: "message.received",
  };
  const base = JSON.stringify(event).length;
  event.data.text = "x".repeat(Math.max(0, targetBytes - base));
  return JSON.stringify(event);
}

async function measure(
  name: string,
  baselineName: string,
  ours: () => unknown,
  baseline: () => unknown,
): Promise<Row> {
  const bench = new Bench({ time: benchTimeMs, warmup: true });
  bench.add(baselineName, baseline);
  bench.add(name, ours);
  await bench.run();
  const [baselineTask, oursTask] = bench.tasks;
  const baselineResult = baselineTask?.result;
  const oursResult = oursTask?.result;
  if (baselineResult?.state !== "completed" || oursResult?.state !== "completed") {
    throw new Error(`benchmark ${name} did not complete`);
  }
  const row: Row = {
    name,
    baseline: baselineName,
    operationsPerSecond: Math.round(oursResult.throughput.mean),
    baselineOperationsPerSecond: Math.round(baselineResult.throughput.mean),
    throughputRatio: Number((oursResult.throughput.mean / baselineResult.throughput.mean).toFixed(3)),
    p50Microseconds: Math.round(oursResult.latency.p50 * 1000),
    p99Microseconds: Math.round(oursResult.latency.p99 * 1000),
    baselineP50Microseconds: Math.round(baselineResult.latency.p50 * 1000),
    baselineP99Microseconds: Math.round(baselineResult.latency.p99 * 1000),
  };
  console.log(
    `${name}: ${row.operationsPerSecond} ops/s (p50 ${row.p50Microseconds} µs, p99 ${row.p99Microseconds} µs)` +
      ` vs ${baselineName}: ${row.baselineOperationsPerSecond} ops/s — ratio ${row.throughputRatio}`,
  );
  return row;
}

async function webhookRows(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of [1024, 16 * 1024]) {
    const body = Buffer.from(messageEvent(size));
    const signature = signWebhook({ payload: body, secret });
    const expected = signature.slice("sha256=".length);
    rows.push(
      await measure(
        `webhook verify+parse ${size / 1024} KB`,
        "raw crypto.createHmac + compare",
        () => {
          verifyWebhookSignature({ rawBody: body, signatureHeader: signature, secret });
          return parseWebhookEvent(body);
        },
        () => createHmac("sha256", secret).update(body).digest("hex") === expected,
      ),
    );
  }
  return rows;
}

async function clientRows(): Promise<Row[]> {
  const simulator = await startLinqSimulator({ phoneNumbers: ["+15550001111"] });
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const client = new LinqClient({
    token: simulator.token,
    baseUrl: simulator.baseUrl,
    dispatcher: agent,
    rateLimit: false,
  });
  try {
    const { chat } = await client.createChat({
      sendFrom: "+15550001111",
      phoneNumbers: ["+15551234567"],
      message: { text: "benchmark" },
    });
    const url = `${simulator.baseUrl}/api/partner/v2/chats/${chat.id}`;
    const headers = { "x-linq-integration-token": simulator.token, accept: "application/json" };
    return [
      await measure(
        "LinqClient.getChat (keep-alive)",
        "raw undici.request + JSON.parse",
        () => client.getChat(chat.id),
        async () => {
          const response = await request(url, { headers, dispatcher: agent });
          return response.body.json();
        },
      ),
    ];
  } finally {
    await client.close();
    await agent.close();
    await simulator.close();
  }
}

const cpuList = cpus();
const machine = {
  cpu: cpuList[0]?.model ?? "unknown",
  cores: cpuList.length,
  memoryGiB: Number((totalmem() / 1024 ** 3).toFixed(1)),
  freeMemoryGiB: Number((freemem() / 1024 ** 3).toFixed(1)),
  os: type(),
  node: process.version,
};
console.log(`machine: ${JSON.stringify(machine)}`);
const rows = [...(await webhookRows()), ...(await clientRows())];
mkdirSync(resultsDirectory, { recursive: true });
const result = { measuredAt: new Date().toISOString(), benchTimeMs, machine, rows };
writeFileSync(join(resultsDirectory, "core-bench.json"), `${JSON.stringify(result, null, 2)}\n`);
const table = [
  "| benchmark | ops/s | p50 µs | p99 µs | baseline | baseline ops/s | ratio |",
  "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
  ...rows.map(
    (row) =>
      `| ${row.name} | ${row.operationsPerSecond} | ${row.p50Microseconds} | ${row.p99Microseconds} | ${row.baseline} | ${row.baselineOperationsPerSecond} | ${row.throughputRatio} |`,
  ),
].join("\n");
writeFileSync(
  join(resultsDirectory, "core-bench.md"),
  `# @linq-connect/core benchmarks\n\nMeasured ${result.measuredAt} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), ${machine.os}, Node.js ${machine.node}.\n\n${table}\n`,
);
console.log(`wrote ${join("bench-results", "core-bench.json")} and core-bench.md`);
