import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listEntries } from "./service";

export const handler = createHandler(routes.listAuditEntries, async ({ query, principal, meta }) => ({
  status: 200,
  body: await listEntries(principal, meta, query ?? {}),
}));
