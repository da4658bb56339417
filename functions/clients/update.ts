import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { updateClient } from "./service";

export const handler = createHandler(routes.updateClient, async ({ path, body, principal, meta }) => ({
  status: 200,
  body: await updateClient(principal, meta, path.clientId, body),
}));
