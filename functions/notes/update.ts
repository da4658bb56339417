import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { updateNote } from "./service";

export const handler = createHandler(routes.updateNote, async ({ path, body, principal, meta }) => ({
  status: 200,
  body: await updateNote(principal, meta, path.clientId, path.noteId, body),
}));
