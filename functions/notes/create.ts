import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { createNote } from "./service";

export const handler = createHandler(routes.createNote, async ({ path, body, principal, meta }) => ({
  status: 201,
  body: await createNote(principal, meta, path.clientId, body),
}));
