import { LinqClient, linqEventTypes } from "@linq-connect/core";
import { type LinqSimulator, startLinqSimulator } from "@linq-connect/core/testing";

export interface LinqSandbox {
  simulator: LinqSimulator;
  /** The secret the sandbox subscription signs webhooks with. */
  webhookSecret: string;
  linqNumber: string;
  close(): Promise<void>;
}

/**
 * The Linq side of the sandbox: a local Linq simulator with one organisation number and a webhook
 * subscription (every event type) pointing at the service's ingest endpoint.
 */
export async function startLinqSandbox(options: {
  webhookUrl: string;
  webhookSecret: string;
  port?: number;
}): Promise<LinqSandbox> {
  const linqNumber = "+15550001111";
  const simulator = await startLinqSimulator({ phoneNumbers: [linqNumber], port: options.port ?? 0 });
  const webhookSecret = options.webhookSecret;
  const client = new LinqClient({ token: simulator.token, baseUrl: simulator.baseUrl });
  try {
    await client.createWebhookSubscription({
      webhook_url: options.webhookUrl,
      events: [...linqEventTypes],
      secret: webhookSecret,
      active: true,
    });
  } finally {
    await client.close();
  }
  return { simulator, webhookSecret, linqNumber, close: () => simulator.close() };
}
