import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { listNotes } from "./service";

export const handler = createHandler(routes.listNotes, async ({ path, principal, meta }) => ({
  status: 200,
  body: await listNotes(principal, meta, path.clientId),
}));
