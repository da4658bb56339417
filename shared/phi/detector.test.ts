import { describe, expect, it } from "vitest";
import { evaluationSet } from "../../test/phi-eval/dataset";
import { score } from "../../test/phi-eval/score";
import { detectPhi } from "./detector";

/** Quality gate for the local detector on the labelled set (figures per type: `npm run bench:phi`). */
const found = (text: string) => detectPhi(text).map((e) => [e.type, text.slice(e.begin, e.end)]);

describe("local PHI detector", () => {
  it("meets recall ≥ 0.95 and precision ≥ 0.85 on the evaluation set of 300+ snippets", () => {
    const samples = evaluationSet();
    expect(samples.length).toBeGreaterThanOrEqual(300);
    const { byType } = score(samples, detectPhi);
    expect(byType.ALL?.recall).toBeGreaterThanOrEqual(0.95);
    expect(byType.ALL?.precision).toBeGreaterThanOrEqual(0.85);
  });

  it("finds each Safe Harbor identifier type", () => {
    const text =
      "Maria Delgado (DOB 03/14/1952), 95 years old, retired teacher, 42 Oak St, Austin, TX 78701, " +
      "(512) 555-0100, maria@example.org, MRN: 7712345, https://portal.example/x, 10.1.2.3, SSN 123-45-6789";
    expect(found(text)).toEqual([
      ["NAME", "Maria Delgado"],
      ["DATE", "03/14/1952"],
      ["AGE", "95"],
      ["PROFESSION", "teacher"],
      ["ADDRESS", "42 Oak St"],
      ["ADDRESS", "Austin, TX 78701"],
      ["PHONE_OR_FAX", "(512) 555-0100"],
      ["EMAIL", "maria@example.org"],
      ["ID", "7712345"],
      ["URL", "https://portal.example/x"],
      ["URL", "10.1.2.3"],
      ["ID", "123-45-6789"],
    ]);
  });

  it.each([
    "She had a Dr. Pepper with lunch.",
    "Continue Metformin and Lisinopril; start Ozempic.",
    "We meet in May; Grace periods vary; Will power helps.",
    "The 45-year-old patient walked 10,000 steps.",
  ])("flags nothing in %s", (text) => {
    expect(found(text)).toEqual([]);
  });
});
