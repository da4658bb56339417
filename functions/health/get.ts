import { createHandler } from "../../shared/http/handler";
import { routes } from "../routes";

export const handler = createHandler(routes.health, async () => ({ status: 200, body: { status: "ok" } }));
