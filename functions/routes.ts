import * as z from "zod";
import { ROLES } from "../shared/auth/roles";
import { defineRoute, type RouteSpec } from "../shared/http/route";
import { ErrorSchema } from "../shared/http/schemas";
import { AssignmentPathSchema, AssignmentSchema } from "./assignments/schema";
import {
  ClientIdPathSchema,
  ClientListSchema,
  ClientSchema,
  CreateClientSchema,
  ListClientsQuerySchema,
  UpdateClientSchema,
} from "./clients/schema";
import {
  InviteUserSchema,
  ReassignSchema,
  UpdateUserSchema,
  UserIdPathSchema,
  UserSchema,
} from "./users/schema";

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
    permissions: ["records:read", "records:write", "keys:create", "kms:generate-data-key", "audit:append"],
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
  inviteUser: defineRoute({
    method: "POST",
    path: "/users",
    handler: "users/invite",
    summary:
      "Invite a user to the caller's org (Cognito emails a temporary password; TOTP enrolment is required)",
    auth: "cognito",
    roles: ["admin"],
    permissions: ["records:write", "cognito:manage-users", "audit:append"],
    request: { body: InviteUserSchema },
    responses: {
      201: { description: "Invited", schema: UserSchema },
      409: { description: "Email in use", schema: ErrorSchema },
      ...errors,
    },
  }),
  listUsers: defineRoute({
    method: "GET",
    path: "/users",
    handler: "users/list",
    summary: "The org's people, roles, status and teams",
    auth: "cognito",
    roles: ["admin", "coach_lead"],
    permissions: ["records:read"],
    responses: { 200: { description: "Users", schema: z.object({ items: z.array(UserSchema) }) }, ...errors },
  }),
  updateUser: defineRoute({
    method: "PATCH",
    path: "/users/{userId}",
    handler: "users/update",
    summary:
      "Change a user's role, disable or re-enable them (effective on their next request), or set their lead",
    auth: "cognito",
    roles: ["admin"],
    permissions: ["records:read", "records:write", "cognito:manage-users", "audit:append"],
    request: { path: UserIdPathSchema, body: UpdateUserSchema },
    responses: {
      200: { description: "Updated", schema: UserSchema },
      404: { description: "No such user in the org", schema: ErrorSchema },
      409: { description: "Version conflict, or a change to oneself", schema: ErrorSchema },
      ...errors,
    },
  }),
  reassignClients: defineRoute({
    method: "POST",
    path: "/users/{userId}/reassign",
    handler: "users/reassign",
    summary: "Move every client of a departing coach to another coach",
    auth: "cognito",
    roles: ["admin"],
    permissions: ["records:read", "records:write", "records:update", "records:delete", "audit:append"],
    request: { path: UserIdPathSchema, body: ReassignSchema },
    responses: { 200: { description: "Moved", schema: z.object({ moved: z.number() }) }, ...errors },
  }),
  assignCoach: defineRoute({
    method: "PUT",
    path: "/clients/{clientId}/coaches/{coachId}",
    handler: "assignments/assign",
    summary: "Assign a coach to a client",
    auth: "cognito",
    roles: ["admin"],
    permissions: ["records:read", "records:write", "records:update", "audit:append"],
    request: { path: AssignmentPathSchema },
    responses: { 200: { description: "The client's coaches", schema: AssignmentSchema }, ...errors },
  }),
  unassignCoach: defineRoute({
    method: "DELETE",
    path: "/clients/{clientId}/coaches/{coachId}",
    handler: "assignments/unassign",
    summary: "Take a coach off a client",
    auth: "cognito",
    roles: ["admin"],
    permissions: ["records:read", "records:update", "records:delete", "audit:append"],
    request: { path: AssignmentPathSchema },
    responses: { 200: { description: "The client's coaches", schema: AssignmentSchema }, ...errors },
  }),
} satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof routes;
export const routeList: readonly (RouteSpec & { id: string })[] = Object.entries(routes).map(
  ([id, spec]) => ({
    id,
    ...spec,
  }),
);
