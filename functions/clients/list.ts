import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listClients } from "./service";

export const handler = createHandler(routes.listClients, async ({ query, principal, meta }) => ({
  status: 200,
  body: await listClients(principal, meta, query ?? {}),
}));
