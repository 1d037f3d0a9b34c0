// The benchmark's baseline: a bare node:http server that reads the body, verifies the webhook's
// HMAC-SHA256 and answers 200 — no parsing, no database, no queue. Run as a child process by
// bench/run.ts with BENCH_WEBHOOK_SECRET set; prints {"url":…} on stdout and answers "memory" over IPC.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.BENCH_WEBHOOK_SECRET;
if (secret === undefined || secret === "") throw new Error("BENCH_WEBHOOK_SECRET is not set");

let peakRss = process.memoryUsage.rss();
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20).unref();

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const header = String(request.headers["x-webhook-signature"] ?? "");
    const received = Buffer.from(header.replace(/^sha256=/i, ""), "hex");
    const expected = createHmac("sha256", secret).update(Buffer.concat(chunks)).digest();
    const valid = received.length === expected.length && timingSafeEqual(received, expected);
    response.writeHead(valid ? 200 : 401, { "content-type": "application/json" });
    response.end(valid ? '{"received":true}' : '{"error":"unauthorized"}');
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
});

process.on("message", (message: { id: number; command: string }) => {
  if (message.command === "memory") {
    const rss = process.memoryUsage.rss();
    peakRss = Math.max(peakRss, rss);
    process.send?.({ id: message.id, result: { rss, peakRss } });
  } else if (message.command === "reset-peak") {
    peakRss = process.memoryUsage.rss();
    process.send?.({ id: message.id, result: { peakRss } });
  } else {
    process.send?.({ id: message.id, error: `unknown command ${message.command}` });
  }
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
