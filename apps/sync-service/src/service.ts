import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeWebhookHandler, LinqConnectError, type ParsedLinqWebhookEvent } from "@linq-connect/core";
import type { Logger } from "pino";

export interface ServiceOptions {
  port: number;
  host?: string;
  webhookSecret: string;
  logger: Logger;
  /** Called with every verified event; the ack waits only for this. */
  onEvent(event: ParsedLinqWebhookEvent): Promise<void> | void;
  /** Extra routes (the sandbox's controls). Return false when the route is not handled. */
  extraRoutes?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
}

export interface RunningService {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The HTTP side of the service: verified Linq webhook ingest and liveness. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const webhookHandler = createNodeWebhookHandler({
    secret: options.webhookSecret,
    onEvent: options.onEvent,
    onError: (error) =>
      options.logger.warn(
        { code: error instanceof LinqConnectError ? error.code : "internal" },
        "webhook rejected",
      ),
  });
  const server = createServer((request, response) => {
    void route(request, response).catch((error: unknown) => {
      options.logger.error({ error: String(error) }, "request failed");
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path === "/webhooks/linq") return webhookHandler(request, response);
    if (path === "/healthz" && request.method === "GET") {
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    if (options.extraRoutes !== undefined && (await options.extraRoutes(request, response))) return;
    response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}');
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
