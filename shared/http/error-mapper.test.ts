import { describe, expect, it } from "vitest";
import { DataKeyUnavailableError } from "../crypto/errors";
import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  ServiceUnavailableError,
  ValidationError,
} from "../errors";
import { toHttpResponse } from "./error-mapper";

describe("error mapper", () => {
  it.each([
    [new ValidationError([{ field: "body.name", rule: "too_small" }]), 400, "VALIDATION_FAILED"],
    [new ForbiddenError(), 403, "FORBIDDEN"],
    [new NotFoundError(), 404, "NOT_FOUND"],
    [new ConflictError("USER_EXISTS", "x"), 409, "USER_EXISTS"],
    [new ServiceUnavailableError(), 503, "SERVICE_UNAVAILABLE"],
    [new DataKeyUnavailableError(), 503, "DATA_KEY_UNAVAILABLE"],
    [new IntegrityError(), 500, "INTEGRITY_ERROR"],
  ])("maps %s by its kind", (error, status, code) => {
    const response = toHttpResponse(error, "req-1");
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body).error).toMatchObject({ code, requestId: "req-1" });
  });

  it("tells a retryable failure when to retry, and keeps the cause out of the body", () => {
    const cause = new Error("ThrottlingException: Rate exceeded for table coachvault-prod-records");
    const response = toHttpResponse(new ServiceUnavailableError("SERVICE_UNAVAILABLE", { cause }), "r");
    expect(response.headers?.["Retry-After"]).toBe("1");
    expect(response.body).not.toContain("records");
  });

  it("answers anything untyped with a generic 500 and no detail", () => {
    const response = toHttpResponse(new TypeError("secret detail"), "r");
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain("secret");
  });
});
