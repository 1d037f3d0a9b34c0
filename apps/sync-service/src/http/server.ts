/**
 * The HTTP server. Every request body is read raw (a Buffer): verification needs the exact bytes, so no
 * route ever sees a parsed body it could act on before its signature is checked.
 */
import type { ConnectorContext, InboundRoute } from "@linq-connect/core";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { ServiceMetrics } from "../metrics.ts";
import type { IngestResponse } from "../pipeline/linq-ingest.ts";

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface MountedInboundRoute {
  connector: string;
  route: InboundRoute;
  context: () => ConnectorContext;
}

export interface HttpServerOptions {
  logger: Logger;
  metrics: ServiceMetrics;
  maxBodyBytes: number;
  ingestLinq(request: {
    rawBody: Buffer;
    headers: Record<string, string | string[] | undefined>;
  }): Promise<IngestResponse>;
  readiness: readonly ReadinessCheck[];
  inboundRoutes: readonly MountedInboundRoute[];
  /** Extra routes (the sandbox's controls and pages). */
  register?: (server: FastifyInstance) => void | Promise<void>;
}

/** JSON for webhooks; form bodies for Slack commands and interactions. Anything else is a 415. */
const acceptedContentTypes = ["application/json", "application/x-www-form-urlencoded"];

export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const server = Fastify({
    bodyLimit: options.maxBodyBytes,
    // Our own pino logger logs what matters; Fastify's request logs would include headers.
    logger: false,
    disableRequestLogging: true,
    return503OnClosing: true,
    forceCloseConnections: "idle",
  });
  server.removeAllContentTypeParsers();
  server.addContentTypeParser(acceptedContentTypes, { parseAs: "buffer" }, (_request, body, done) => {
    done(null, body);
  });

  server.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    const path = request.url.split("?")[0] ?? "";
    const source = path.startsWith("/webhooks/linq") ? "linq" : path.startsWith("/slack") ? "slack" : "other";
    if (status === 413) options.metrics.eventsRejected.inc({ source, reason: "too_large" });
    else if (status === 415) options.metrics.eventsRejected.inc({ source, reason: "content_type" });
    if (status >= 500)
      options.logger.error({ path, code: error.code, message: error.message }, "request failed");
    void reply.code(status).send({ error: status >= 500 ? "internal_error" : errorName(status) });
  });
  server.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: "not_found" });
  });

  server.post("/webhooks/linq", async (request, reply) => {
    if (
      !String(request.headers["content-type"] ?? "")
        .toLowerCase()
        .startsWith("application/json")
    ) {
      options.metrics.eventsRejected.inc({ source: "linq", reason: "content_type" });
      return reply.code(415).send({ error: "unsupported_media_type" });
    }
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const response = await options.ingestLinq({ rawBody, headers: request.headers });
    return reply.code(response.status).send(response.body);
  });
  server.route({
    method: ["GET", "PUT", "DELETE", "PATCH"],
    url: "/webhooks/linq",
    handler: async (_request, reply) => {
      options.metrics.eventsRejected.inc({ source: "linq", reason: "method" });
      return reply.code(405).header("allow", "POST").send({ error: "method_not_allowed" });
    },
  });

  server.get("/healthz", async () => ({ status: "ok" }));
  server.get("/readyz", async (_request, reply) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          await check();
          return { name, ok: true };
        } catch (error) {
          options.logger.warn({ check: name, message: (error as Error).message }, "readiness check failed");
          return { name, ok: false };
        }
      }),
    );
    const ready = results.every((result) => result.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks: results });
  });
  server.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await options.metrics.render();
    return reply.header("content-type", contentType).send(body);
  });

  for (const mounted of options.inboundRoutes) {
    server.route({
      method: mounted.route.method,
      url: mounted.route.path,
      handler: (request, reply) => handleInbound(mounted, request, reply, options.logger),
    });
  }
  await options.register?.(server);
  return server;
}

async function handleInbound(
  mounted: MountedInboundRoute,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): Promise<FastifyReply> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  try {
    const response = await mounted.route.handle(
      {
        method: request.method,
        url: request.url,
        headers,
        rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      },
      mounted.context(),
    );
    if (response.headers !== undefined) void reply.headers(response.headers);
    return reply.code(response.status).send(response.body ?? "");
  } catch (error) {
    logger.error(
      { connector: mounted.connector, path: mounted.route.path, message: (error as Error).message },
      "inbound route failed",
    );
    return reply.code(500).send({ error: "internal_error" });
  }
}

function errorName(status: number): string {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    default:
      return "error";
  }
}
