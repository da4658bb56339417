import { describe, expect, it } from "vitest";
import { CreateClientSchema, UpdateClientSchema } from "../functions/clients/schema";
import { validatePart } from "./validation";

const issues = (schema: Parameters<typeof validatePart>[0], value: unknown) => {
  try {
    validatePart(schema, value, "body");
    return [];
  } catch (error) {
    return (error as { details: unknown[] }).details;
  }
};

describe("validatePart", () => {
  it("names the field and the rule, never the value", () => {
    const details = issues(CreateClientSchema, {
      name: "",
      email: "jane@",
      phone: "call me",
      secretThing: "Jane Roe",
    });
    expect(details).toEqual([
      { field: "body.name", rule: "min:1" },
      { field: "body.email", rule: "format:email" },
      { field: "body.phone", rule: "format:regex" },
      { field: "body.secretThing", rule: "unknown_field" },
    ]);
    expect(JSON.stringify(details)).not.toMatch(/jane@|call me|Jane Roe/);
  });

  it("does not echo unknown keys that do not look like field names", () => {
    expect(issues(CreateClientSchema, { name: "A B", "Jane Roe 555-0100": 1 })).toEqual([
      { field: "body.(unknown)", rule: "unknown_field" },
    ]);
  });

  it("tells missing from mistyped", () => {
    expect(issues(CreateClientSchema, {})).toEqual([{ field: "body.name", rule: "required" }]);
    expect(issues(CreateClientSchema, { name: 1 })).toEqual([{ field: "body.name", rule: "type:string" }]);
  });

  it("needs a version and at least one change to update", () => {
    expect(issues(UpdateClientSchema, { name: "A B" })).toEqual([
      { field: "body.version", rule: "required" },
    ]);
    expect(issues(UpdateClientSchema, { version: 1 })).toEqual([{ field: "body", rule: "no_changes" }]);
  });
});
