import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";
import { readSettings } from "./service";

export const handler = createHandler(routes.getSettings, async ({ principal }) => ({
  status: 200,
  body: await readSettings(principal),
}));
