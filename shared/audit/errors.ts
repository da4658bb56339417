import { AppError } from "../errors";

export class CheckpointNotFoundError extends AppError {
  constructor() {
    super("CHECKPOINT_NOT_FOUND", "not_found", "No audit checkpoint with that number.");
  }
}
