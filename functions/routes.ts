import * as z from "zod";
import { ROLES } from "../shared/auth/roles";
import { defineRoute, type RouteSpec } from "../shared/http/route";
import { ErrorSchema } from "../shared/http/schemas";
import {
  ClientIdPathSchema,
  ClientListSchema,
  ClientSchema,
  CreateClientSchema,
  ListClientsQuerySchema,
  UpdateClientSchema,
} from "./clients/schema";

/**
 * The route manifest: every route of the API. The CDK app makes one Lambda per entry, the local gateway
 * routes from it, the OpenAPI document is generated from it, and the authorization matrix test walks it.
 */
const errors = {
  400: { description: "Invalid request (the body names each field and rule)", schema: ErrorSchema },
  401: { description: "Missing or invalid token", schema: ErrorSchema },
  403: { description: "Not allowed for this role", schema: ErrorSchema },
} as const;

export const routes = {
  health: defineRoute({
    method: "GET",
    path: "/health",
    handler: "health/get",
    summary: "Liveness check",
    auth: "none",
    roles: [],
    permissions: [],
    responses: { 200: { description: "The API is up", schema: z.object({ status: z.literal("ok") }) } },
  }),
  openapi: defineRoute({
    method: "GET",
    path: "/openapi.json",
    handler: "openapi/get",
    summary: "This API's OpenAPI 3.1 document",
    auth: "none",
    roles: [],
    permissions: [],
    responses: { 200: { description: "OpenAPI 3.1 document" } },
  }),
  createClient: defineRoute({
    method: "POST",
    path: "/clients",
    handler: "clients/create",
    summary: "Create a client; PHI fields are encrypted under the client's own data key",
    auth: "cognito",
    roles: ["coach", "coach_lead"],
    permissions: ["records:write", "keys:create", "kms:generate-data-key", "audit:append"],
    request: { body: CreateClientSchema },
    responses: { 201: { description: "Created", schema: ClientSchema }, ...errors },
  }),
  listClients: defineRoute({
    method: "GET",
    path: "/clients",
    handler: "clients/list",
    summary: "List the clients the caller may see (summary fields), paginated with an opaque cursor",
    auth: "cognito",
    roles: [...ROLES],
    permissions: ["records:read", "keys:read", "kms:decrypt-data-key", "audit:append"],
    request: { query: ListClientsQuerySchema },
    responses: { 200: { description: "A page of clients", schema: ClientListSchema }, ...errors },
  }),
  getClient: defineRoute({
    method: "GET",
    path: "/clients/{clientId}",
    handler: "clients/get",
    summary: "Read one client, with the fields the caller's role and relationship allow",
    auth: "cognito",
    roles: [...ROLES],
    permissions: ["records:read", "keys:read", "kms:decrypt-data-key", "audit:append"],
    request: { path: ClientIdPathSchema },
    responses: {
      200: { description: "The client", schema: ClientSchema },
      404: { description: "No such client (or not visible to the caller)", schema: ErrorSchema },
      ...errors,
    },
  }),
  updateClient: defineRoute({
    method: "PATCH",
    path: "/clients/{clientId}",
    handler: "clients/update",
    summary: "Change a client; `version` must match the stored version (optimistic concurrency)",
    auth: "cognito",
    roles: ["coach", "coach_lead"],
    permissions: ["records:read", "records:write", "keys:read", "kms:decrypt-data-key", "audit:append"],
    request: { path: ClientIdPathSchema, body: UpdateClientSchema },
    responses: {
      200: { description: "The updated client", schema: ClientSchema },
      404: { description: "No such client (or not visible to the caller)", schema: ErrorSchema },
      409: { description: "Version conflict", schema: ErrorSchema },
      ...errors,
    },
  }),
} satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof routes;
export const routeList: readonly (RouteSpec & { id: string })[] = Object.entries(routes).map(
  ([id, spec]) => ({
    id,
    ...spec,
  }),
);
