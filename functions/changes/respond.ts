import { isHeld } from "../../shared/access";
import type { HandlerResult } from "../../shared/http/handler";

/** The answer of a route whose change the two-person rule may hold: 202 with the pending change, else `status`. */
export const heldOr = (status: number, body: object): HandlerResult =>
  isHeld(body) ? { status: 202, body } : { status, body };
