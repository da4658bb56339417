import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { unassignCoach } from "./service";

export const handler = createHandler(routes.unassignCoach, async ({ path, principal, meta }) => ({
  status: 200,
  body: await unassignCoach(principal, meta, path.clientId, path.coachId),
}));
