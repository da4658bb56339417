import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listFindings } from "./service";

export const handler = createHandler(routes.listSecurityEvents, async ({ query, principal, meta }) => ({
  status: 200,
  body: await listFindings(principal, meta, query ?? {}),
}));
