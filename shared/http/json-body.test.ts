import { describe, expect, it } from "vitest";
import { nestingDepth, parseJsonBody } from "./json-body";

const event = (body: string | null, contentType = "application/json") => ({
  body,
  isBase64Encoded: false,
  headers: { "content-type": contentType },
});

describe("parseJsonBody", () => {
  it("parses JSON bodies with a json media type", () => {
    expect(parseJsonBody(event('{"a":1}'), 100, true)).toEqual({ a: 1 });
    expect(parseJsonBody(event('{"a":1}', "application/merge-patch+json; charset=utf-8"), 100, true)).toEqual(
      { a: 1 },
    );
  });

  it.each([
    ["too large", event(`{"a":"${"x".repeat(200)}"}`), "PAYLOAD_TOO_LARGE"],
    ["malformed", event("{"), "MALFORMED_JSON"],
    ["__proto__", event('{"__proto__":{"x":1}}'), "VALIDATION_FAILED"],
    ["nested constructor", event('{"a":{"constructor":1}}'), "VALIDATION_FAILED"],
    ["too deep", event(`${"[".repeat(40)}${"]".repeat(40)}`), "VALIDATION_FAILED"],
    ["not json", event("a=1", "text/plain"), "UNSUPPORTED_MEDIA_TYPE"],
  ])("refuses %s", (_name, input, code) => {
    expect(() => parseJsonBody(input, 100, true)).toThrow(expect.objectContaining({ code }));
  });

  it("refuses a body on a route that takes none, and accepts none", () => {
    expect(() => parseJsonBody(event("{}"), 100, false)).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED" }),
    );
    expect(parseJsonBody(event(null), 100, false)).toBeUndefined();
  });

  it("measures nesting outside strings only", () => {
    expect(nestingDepth('{"a":[[1]],"b":"[[[[\\"[["}')).toBe(3);
  });
});
