import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listChanges } from "./service";

export const handler = createHandler(routes.listChanges, async ({ principal }) => ({
  status: 200,
  body: await listChanges(principal),
}));
