import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { getClient } from "./service";

export const handler = createHandler(routes.getClient, async ({ path, principal, meta }) => ({
  status: 200,
  body: await getClient(principal, meta, path.clientId),
}));
