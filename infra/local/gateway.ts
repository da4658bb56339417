import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { generate } from "selfsigned";
import { verifyAuthorization } from "../../shared/auth";
import { AppError } from "../../shared/errors";
import { statusOf } from "../../shared/http/error-mapper";
import { GATEWAY_ERRORS } from "../../shared/http/errors";
import { type RouteSpec, routeLimits } from "../../shared/http/route";
import {
  edgeResponseHeaders,
  preflightCorsHeaders,
  SECURITY_HEADERS,
} from "../../shared/http/security-headers";
import { logger } from "../../shared/log";
import { signalUnauthenticated } from "../../shared/security";
import { authorizerClaims, lambdaContext, proxyEvent } from "./lambda-runtime";

/**
 * The local API Gateway: HTTPS only (TLS 1.3 minimum), routes from the manifest, a Cognito authorizer
 * that rejects bad tokens before any function runs, and REST proxy events with the authorizer's claims.
 */
type Route = RouteSpec & { id: string };
type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** API Gateway's own payload limit. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export async function ensureCertificate(dir: string): Promise<{ key: string; cert: string }> {
  const tlsDir = join(dir, "tls");
  const keyFile = join(tlsDir, "key.pem");
  const certFile = join(tlsDir, "cert.pem");
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(tlsDir, { recursive: true });
    const pems = await generate([{ name: "commonName", value: "localhost" }], {
      keySize: 2048,
      algorithm: "sha256",
      notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
      extensions: [
        { name: "basicConstraints", cA: false },
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
          ],
        },
      ],
    });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
  }
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8") };
}

/** A route template as a matcher: `/clients/{clientId}` → its parameter names and a regular expression. */
export function compileRoute(route: Route) {
  const names: string[] = [];
  const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { route, names, regex: new RegExp(`^${pattern}$`) };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    ...headers,
    ...SECURITY_HEADERS,
  });
  res.end(body);
}

const errorBody = (code: string, message: string, requestId: string) =>
  JSON.stringify({ error: { code, message, requestId } });

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export type GatewayOptions = {
  dir: string;
  port: number;
  routes: readonly Route[];
  allowedOrigins: readonly string[];
  loadHandler: (route: Route) => Promise<LambdaHandler>;
};

export async function startGateway(options: GatewayOptions): Promise<Server> {
  const compiled = options.routes.map(compileRoute);
  const handlers = new Map<string, Promise<LambdaHandler>>();
  // The gateway's own errors carry what API Gateway's gateway responses carry (CORS for a single origin).
  const edgeHeaders = edgeResponseHeaders(options.allowedOrigins);
  const fail = (
    res: ServerResponse,
    { status, code, message }: { status: number; code: string; message: string },
    requestId: string,
  ) => send(res, status, errorBody(code, message, requestId), edgeHeaders);

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const receivedAt = Date.now();
    const url = new URL(req.url ?? "/", "https://localhost");
    const method = req.method ?? "GET";
    const candidates = compiled.map((c) => ({ c, match: c.regex.exec(url.pathname) })).filter((m) => m.match);
    if (candidates.length === 0) return fail(res, GATEWAY_ERRORS.notFound, requestId);

    const origin = req.headers.origin;
    const corsAllowed = origin !== undefined && options.allowedOrigins.includes(origin);
    if (method === "OPTIONS") {
      const methods = candidates.map(({ c }) => c.route.method);
      return send(res, 204, "", {
        ...(corsAllowed && preflightCorsHeaders(origin, methods)),
        Vary: "Origin",
      });
    }
    const found = candidates.find(({ c }) => c.route.method === method);
    if (!found?.match)
      return fail(
        res,
        { status: 405, code: "METHOD_NOT_ALLOWED", message: "Method not allowed." },
        requestId,
      );
    const { route, names } = found.c;

    let pathParameters: Record<string, string> | null = null;
    try {
      if (names.length > 0) {
        pathParameters = Object.fromEntries(
          names.map((name, i) => [name, decodeURIComponent(found.match?.[i + 1] ?? "")]),
        );
      }
    } catch {
      return fail(
        res,
        { status: 400, code: "VALIDATION_FAILED", message: "The request path is invalid." },
        requestId,
      );
    }

    const body = await readBody(req);
    if (!body) return fail(res, GATEWAY_ERRORS.tooLarge, requestId);

    let claims: Record<string, string> | undefined;
    if (route.auth === "cognito") {
      try {
        claims = authorizerClaims(await verifyAuthorization(req.headers.authorization));
      } catch (error) {
        const status = error instanceof AppError ? statusOf(error) : GATEWAY_ERRORS.unauthorized.status;
        // What the cloud's access-log subscription records (functions/security/log-signals.job.ts).
        if (status === 401)
          await signalUnauthenticated({
            ip: req.socket.remoteAddress ?? "unknown",
            route: route.handler,
            requestId,
          });
        return fail(res, { ...GATEWAY_ERRORS.unauthorized, status }, requestId);
      }
    }

    const event = proxyEvent({
      route,
      method,
      url,
      rawHeaders: req.rawHeaders,
      body,
      pathParameters,
      requestId,
      receivedAt,
      sourceIp: req.socket.remoteAddress ?? "unknown",
      ...(claims && { claims }),
    });
    // The function's own timeout and memory from the manifest, as Lambda would report them.
    const limits = routeLimits(route);
    const context = lambdaContext(
      `coachvault-local-${route.id}`,
      requestId,
      limits.timeoutSeconds * 1000,
      limits.memoryMb,
    );

    if (!handlers.has(route.id)) handlers.set(route.id, options.loadHandler(route));
    const handler = await (handlers.get(route.id) as Promise<LambdaHandler>);
    const result = await handler(event, context);
    res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>) });
    res.end(result.body);
  };

  const key = await ensureCertificate(options.dir);
  const server = createServer({ ...key, minVersion: "TLSv1.3" }, (req, res) => {
    serve(req, res).catch((error: unknown) => {
      logger.error("gateway failure", { error: error instanceof Error ? error : { name: "unknown" } });
      if (!res.headersSent)
        send(
          res,
          500,
          errorBody("INTERNAL_ERROR", "Something went wrong.", "gateway"),
          edgeResponseHeaders(options.allowedOrigins),
        );
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", resolve);
  });
  return server;
}
