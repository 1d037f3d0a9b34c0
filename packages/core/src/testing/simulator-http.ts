/**
 * The HTTP plumbing every simulator shares: a server whose handler failures become a 500 (or a dropped
 * connection once headers are out) and a log line, listening on a host and port (0: an ephemeral one)
 * with a ConfigurationError when it cannot, closing with every connection cut, and reading a request
 * body with a size limit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigurationError } from "../errors.ts";

/** A server running `handle` for every request; a failure is logged and answered 500. */
export function createSimulatorServer(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  log: (line: string) => void,
): Server {
  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`simulator failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!response.headersSent) response.writeHead(500).end();
      else response.destroy();
    });
  });
}

/** Listens and returns the base URL (`http://127.0.0.1:PORT`, IPv6 in brackets). */
export async function listenSimulatorServer(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void =>
      reject(new ConfigurationError(`The simulator cannot listen: ${error.message}`, { cause: error }));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const { address, port: bound } = server.address() as AddressInfo;
  const printable = address.includes(":") ? `[${address}]` : address;
  return `http://${printable}:${bound}`;
}

/** Stops listening and cuts every open connection. */
export function closeSimulatorServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface RequestBody {
  bytes: Buffer;
  /** The body (or its Content-Length) passed the limit: the rest was drained, `bytes` is empty. */
  tooLarge: boolean;
  /** False when the client went away before the end: the request must be dropped, not processed. */
  complete: boolean;
}

/** Reads the whole body; past `limit` the rest is drained (so the client still gets a 413) and `tooLarge` is set. */
export function readSimulatorRequestBody(request: IncomingMessage, limit: number): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(request.headers["content-length"] ?? "0") > limit;
    request.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.byteLength;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () =>
      resolve({ bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge, complete: true }),
    );
    // A client that disconnects mid-body: resolve (once) so the request is dropped, not processed.
    request.on("close", () => resolve({ bytes: Buffer.alloc(0), tooLarge, complete: false }));
    request.on("error", reject);
  });
}
