import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { approveChange } from "./service";

export const handler = createHandler(routes.approveChange, async ({ path, principal, meta }) => ({
  status: 200,
  body: await approveChange(principal, meta, path.changeId),
}));
