import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { rejectChange } from "./service";

export const handler = createHandler(routes.rejectChange, async ({ path, principal, meta }) => ({
  status: 200,
  body: await rejectChange(principal, meta, path.changeId),
}));
