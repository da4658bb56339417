import { AppError } from "../errors";

export class InvalidCursorError extends AppError {
  constructor() {
    super("INVALID_CURSOR", "invalid", "The pagination cursor is invalid.");
  }
}
