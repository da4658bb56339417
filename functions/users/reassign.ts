import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { reassignClients } from "./service";

export const handler = createHandler(routes.reassignClients, async ({ path, body, principal, meta }) => ({
  status: 200,
  body: await reassignClients(principal, meta, path.userId, body.toCoachId),
}));
