import * as z from "zod";
import { IDEMPOTENCY_KEY_HEADER, KEY_PATTERN } from "./idempotency";
import { type RouteSpec, takesIdempotencyKey } from "./route";
import { ErrorSchema } from "./schemas";

/** OpenAPI 3.1 from the route manifest and its Zod schemas (JSON Schema 2020-12, which 3.1 uses). */
const jsonSchema = (schema: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" });

function parameters(route: RouteSpec) {
  const list: object[] = [];
  for (const [where, schema] of [
    ["path", route.request?.path],
    ["query", route.request?.query],
  ] as const) {
    if (!schema) continue;
    const shape = jsonSchema(schema, "input") as { properties?: Record<string, object>; required?: string[] };
    for (const [name, property] of Object.entries(shape.properties ?? {})) {
      list.push({
        name,
        in: where,
        required: where === "path" || Boolean(shape.required?.includes(name)),
        schema: property,
      });
    }
  }
  if (takesIdempotencyKey(route))
    list.push({
      name: IDEMPOTENCY_KEY_HEADER,
      in: "header",
      required: false,
      description:
        "Makes a retry safe: the same key and request within 24 h answer the first answer again (Idempotent-Replayed: true)",
      schema: { type: "string", minLength: 1, maxLength: 255, pattern: KEY_PATTERN.source },
    });
  return list;
}

/** The answers a keyed request may also get: 409 while its first is in flight, 422 for a reused key. */
function idempotencyResponses(route: RouteSpec): RouteSpec["responses"] {
  if (!takesIdempotencyKey(route)) return route.responses;
  const inFlight = "A request with the same Idempotency-Key is still in flight (IDEMPOTENCY_IN_PROGRESS)";
  const declared = route.responses[409];
  return {
    ...route.responses,
    409: declared
      ? { ...declared, description: `${declared.description}; or: ${inFlight}` }
      : { description: inFlight, schema: ErrorSchema },
    422: {
      description: "The Idempotency-Key was used with a different request (IDEMPOTENCY_KEY_REUSED)",
      schema: ErrorSchema,
    },
  };
}

export function openApiDocument(routes: readonly (RouteSpec & { id: string })[]) {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const operation = {
      operationId: route.id,
      summary: route.summary,
      ...(route.auth === "cognito"
        ? { security: [{ cognito: [] }], "x-roles": route.roles }
        : { security: [] }),
      parameters: parameters(route),
      ...(route.request?.body && {
        requestBody: {
          required: true,
          content: { "application/json": { schema: jsonSchema(route.request.body, "input") } },
        },
      }),
      responses: Object.fromEntries(
        Object.entries(idempotencyResponses(route)).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.schema && {
              content: { "application/json": { schema: jsonSchema(response.schema, "output") } },
            }),
            // A document route's success answer is its document, not JSON.
            ...(route.document &&
              status.startsWith("2") && {
                content: { [route.document.contentType]: { schema: { type: "string" } } },
              }),
          },
        ]),
      ),
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "CoachVault API",
      version: "1.0.0",
      description:
        "HIPAA-grade API for health-coaching apps. Every route but /health and /openapi.json needs a Cognito ID token.",
    },
    components: {
      securitySchemes: {
        cognito: { type: "http", scheme: "bearer", bearerFormat: "JWT (Cognito ID token)" },
      },
    },
    paths,
  };
}
