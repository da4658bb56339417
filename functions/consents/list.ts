import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listConsents } from "./service";

export const handler = createHandler(routes.listConsents, async ({ path, principal, meta }) => ({
  status: 200,
  body: await listConsents(principal, meta, path.clientId),
}));
