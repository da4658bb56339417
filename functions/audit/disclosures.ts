import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listDisclosures } from "./service";

export const handler = createHandler(routes.listDisclosures, async ({ path, query, principal, meta }) => ({
  status: 200,
  body: await listDisclosures(principal, meta, path.clientId, query ?? {}),
}));
