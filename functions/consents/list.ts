import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listConsents } from "./service";

export const handler = createHandler(routes.listConsents, async ({ path, principal }) => ({
  status: 200,
  body: await listConsents(principal, path.clientId),
}));
