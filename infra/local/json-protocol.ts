import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** An AWS service error as the JSON 1.1 protocol carries it; the SDK turns `type` into the exception class. */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type Operations = Record<string, (input: Record<string, unknown>) => unknown>;

const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * A request's body, read whole, for the local AWS stand-ins: `undefined` past `maxBytes` (read to the end,
 * kept no further), which each answers in its own protocol's error.
 */
export function boundedBody(
  req: IncomingMessage,
  maxBytes: number,
  onBody: (body: string | undefined) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  });
  req.on("end", () => onBody(size > maxBytes ? undefined : Buffer.concat(chunks).toString("utf8")));
}

/** Listens on the loopback address only. */
export function listenLocally(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/**
 * A minimal server for AWS's JSON 1.1 protocol (`X-Amz-Target: <prefix>.<Operation>`), enough for the
 * real SDK clients to talk to the local KMS and Comprehend Medical stand-ins. Signatures are not checked.
 */
export function startJsonProtocolServer(
  targetPrefix: string,
  operations: Operations,
  port: number,
): Promise<Server> {
  const server = createServer((req, res) => {
    boundedBody(req, MAX_REQUEST_BYTES, (body) => {
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(payload));
      };
      try {
        if (body === undefined) throw new ServiceError("ValidationException", "request too large");
        const target = String(req.headers["x-amz-target"] ?? "");
        const [prefix, name] = target.split(".");
        const operation = prefix === targetPrefix && name ? operations[name] : undefined;
        if (!operation) throw new ServiceError("UnknownOperationException", "unknown operation");
        const input = JSON.parse(body || "{}");
        reply(200, operation(input));
      } catch (error) {
        const failure =
          error instanceof ServiceError
            ? error
            : new ServiceError("InternalFailure", "internal failure", 500);
        reply(failure.status, { __type: failure.type, message: failure.message });
      }
    });
  });
  return listenLocally(server, port);
}

export const portOf = (server: Server) => (server.address() as AddressInfo).port;
