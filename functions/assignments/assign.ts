import { createHandler } from "../../shared/http/handler";
import { heldOr } from "../changes/respond";
import { routes } from "../routes";
import { assignCoach } from "./service";

export const handler = createHandler(routes.assignCoach, async ({ path, principal, meta }) =>
  heldOr(200, await assignCoach(principal, meta, path.clientId, path.coachId)),
);
