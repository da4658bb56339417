import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { verifyTrail } from "./service";

export const handler = createHandler(routes.verifyAudit, async ({ query, principal, meta }) => ({
  status: 200,
  body: await verifyTrail(principal, meta, query?.from),
}));
