import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { readTranscript } from "./service";

export const handler = createHandler(routes.getTranscript, async ({ path, principal, meta }) => ({
  status: 200,
  body: await readTranscript(principal, meta, path.clientId, path.sessionId),
}));
