import { Writable } from "node:stream";
import type { ParsedLinqWebhookEvent } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";
import { type LinqSandbox, startLinqSandbox } from "./sandbox/linq-sandbox.ts";
import { type RunningService, startService } from "./service.ts";

describe("sandbox service", () => {
  let sandbox: LinqSandbox | undefined;
  let service: RunningService | undefined;
  afterEach(async () => {
    await service?.close();
    await sandbox?.close();
  });

  it("receives a simulated customer text as a verified, parsed webhook and logs no secret", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _encoding, callback) {
          lines.push(String(chunk));
          callback();
        },
      }),
    });
    const events: ParsedLinqWebhookEvent[] = [];
    const webhookSecret = "sandbox-test-secret-0123456789";
    service = await startService({
      port: 0,
      webhookSecret,
      logger,
      onEvent: (event) => {
        events.push(event);
      },
    });
    sandbox = await startLinqSandbox({ webhookUrl: `${service.url}/webhooks/linq`, webhookSecret });

    await sandbox.simulator.inbound.text({ from: "+15551234567", text: "Is my order ready?" });
    await sandbox.simulator.webhooks.flush();

    expect(events).toHaveLength(1);
    const event = events[0];
    expect(event?.known && event.event_type).toBe("message.received");
    if (event?.known && event.event_type === "message.received") {
      expect(event.data.text).toBe("Is my order ready?");
      expect(event.data.from_phone).toBe("+15551234567");
    }
    const delivery = sandbox.simulator.webhooks.deliveries.at(-1);
    expect(delivery?.status).toBe(200);
    expect(lines.join("")).not.toContain(sandbox.webhookSecret);
  });

  it("answers 401 to an unsigned webhook and 200 on /healthz", async () => {
    const logger = createLogger({ level: "silent" });
    service = await startService({ port: 0, webhookSecret: "secret", logger, onEvent: () => {} });
    const unsigned = await fetch(`${service.url}/webhooks/linq`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ event_type: "message.received" }),
    });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: "unauthorized" });
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
