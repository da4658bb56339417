import { createHandler } from "../../shared/http/handler";
import { heldOr } from "../changes/respond";
import { routes } from "../routes";
import { reassignClients } from "./service";

export const handler = createHandler(routes.reassignClients, async ({ path, body, principal, meta }) =>
  heldOr(200, await reassignClients(principal, meta, path.userId, body.toCoachId)),
);
