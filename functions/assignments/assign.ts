import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { assignCoach } from "./service";

export const handler = createHandler(routes.assignCoach, async ({ path, principal, meta }) => ({
  status: 200,
  body: await assignCoach(principal, meta, path.clientId, path.coachId),
}));
