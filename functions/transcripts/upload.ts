import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { uploadTranscript } from "./service";

export const handler = createHandler(routes.uploadTranscript, async ({ path, body, principal, meta }) => ({
  status: 200,
  body: await uploadTranscript(principal, meta, path.clientId, path.sessionId, body.text),
}));
