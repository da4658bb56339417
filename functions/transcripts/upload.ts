import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { uploadTranscript } from "./service";

export const handler = createHandler(
  routes.uploadTranscript,
  async ({ path, body, principal, meta, remainingMs }) => ({
    status: 200,
    body: await uploadTranscript(
      principal,
      meta,
      { ...path, deadline: Date.now() + remainingMs() },
      body.text,
    ),
  }),
);
