import { describe, expect, it } from "vitest";
import { evaluationSet } from "../../test/phi-eval/dataset";
import { score } from "../../test/phi-eval/score";
import { detectPhi } from "./detector";
import { ibanValid, luhnValid } from "./numbers";

/** Quality gate for the local detector on the labelled set (figures per type, kind and part: `npm run bench:phi`). */
const found = (text: string) => detectPhi(text).map((e) => [e.type, text.slice(e.begin, e.end)]);
const samples = evaluationSet();
/** The general-domain kinds of issue 13, each scored on its own (labels `[[TYPE/kind:…]]` in test/phi-eval). */
const KINDS = [
  "address-eu",
  "address-latam",
  "address-us-lines",
  "address-us-nosuffix",
  "phone-intl",
  "phone-national",
  "card",
  "iban",
  "ipv6",
  "name-intl",
  "surname-cue",
  "speaker",
  "surname-list",
];

describe("local PHI detector", () => {
  it("meets recall ≥ 0.95 and precision ≥ 0.90 on the whole evaluation set of 500+ snippets", () => {
    expect(samples.length).toBeGreaterThanOrEqual(500);
    const { byType } = score(samples, detectPhi);
    expect(byType.ALL?.recall).toBeGreaterThanOrEqual(0.95);
    expect(byType.ALL?.precision).toBeGreaterThanOrEqual(0.9);
  });

  it("keeps the clinical-style part where it was (recall and precision ≥ 0.995)", () => {
    const clinical = samples.filter((s) => s.part === "clinical" && s.source !== "holdout");
    const { byType } = score(clinical, detectPhi);
    expect(byType.ALL?.recall).toBeGreaterThanOrEqual(0.995);
    expect(byType.ALL?.precision).toBeGreaterThanOrEqual(0.995);
  });

  it.each(KINDS)(
    "%s: finds 90 percent or more of the labels of that kind in the general-domain snippets",
    (kind) => {
      const general = samples.filter((s) => s.source === "general");
      const recall = score(general, detectPhi).byKind[kind];
      expect(recall?.labels).toBeGreaterThanOrEqual(5);
      expect(recall?.recall).toBeGreaterThanOrEqual(0.9);
    },
  );

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

  it("finds identifiers outside the US patterns, whole", () => {
    expect(found("Wire it to DE47 3618 1912 0646 0001 40 or pay with 4525 9658 9092 1903.")).toEqual([
      ["ID", "DE47 3618 1912 0646 0001 40"],
      ["ID", "4525 9658 9092 1903"],
    ]);
    expect(
      found("Call +44 20 7946 0958 or 06 12 34 56 78; login from 2001:db8:85a3::8a2e:370:7334."),
    ).toEqual([
      ["PHONE_OR_FAX", "+44 20 7946 0958"],
      ["PHONE_OR_FAX", "06 12 34 56 78"],
      ["URL", "2001:db8:85a3::8a2e:370:7334"],
    ]);
    expect(found("Send it to Calle de Alcalá 123, 4º B, 28009 Madrid.")).toEqual([
      ["ADDRESS", "Calle de Alcalá 123, 4º B"],
      ["ADDRESS", "28009 Madrid"],
    ]);
    expect(found("Łukasz Wróblewski: my name is Oyelaran.\nUbul: I slept fine.")).toEqual([
      ["NAME", "Łukasz Wróblewski"],
      ["NAME", "Oyelaran"],
      ["NAME", "Ubul"],
    ]);
    expect(found("Present: Kovács, Nowak and Ó Súilleabháin. Ask Mrs. Van der Berg.")).toEqual([
      ["NAME", "Kovács"],
      ["NAME", "Nowak"],
      ["NAME", "Ó Súilleabháin"],
      ["NAME", "Van der Berg"],
    ]);
  });

  it.each([
    "She had a Dr. Pepper with lunch.",
    "Continue Metformin and Lisinopril; start Ozempic.",
    "We meet in May; Grace periods vary; Will power helps.",
    "The 45-year-old patient walked 10,000 steps.",
    // Card- and IBAN-shaped numbers that fail Luhn or mod-97.
    "Tracking 4525 9658 9092 1906 and serial 5518 6692 4366 2169 are on the box.",
    "The code DE47 3628 1912 0646 0001 40 was rejected.",
    // Doses, lab values, times, versions, counts.
    "Take 2.5 mg twice daily; potassium 4.1 mmol/L; glucose 98.",
    "The train leaves at 06:15:30 and the app is version 10.2.3, build 4471.",
    "Population 8 336 817; invoice 2024-0098; ratio 1:2:3.",
    // Capitalised words after colons and in lists that are not people.
    "Breakfast: Oats with berries. Monday: rest. Status: Pending review.",
    "Ingredients: Flour, Sugar, Butter and Eggs.",
    "Ibuprofen, Omeprazole and Atorvastatin were continued.",
  ])("flags nothing in %s", (text) => {
    expect(found(text)).toEqual([]);
  });

  it("answers on a long digit run (the national phone pattern once tried every way to split it)", () => {
    expect(found(`Code 0${"1".repeat(200)}a, then +2${" 1".repeat(200)}x.`)).toEqual([]);
  });

  // No timing assertion (the machine may be shared): a pattern that backtracks or rescans on one of these
  // takes minutes on 100 KB, far past the test's timeout; each one takes milliseconds.
  it.each([
    ["digits", "1"],
    ["spaced digits", "0 12 "],
    ["phone-like groups", "+44 20 "],
    ["capitalised words", "Anna Maria "],
    ["capitalised words without spaces", "AbCdEf"],
    ["colons", "a:b::1:"],
    ["spaces", " "],
    ['"my name is"', "my name is "],
    ['"My name is" and a name', "My name is Ann "],
    ["a list cue", "Present: Ann, "],
    ["initials", "A. B. "],
    ["postcodes after commas", ", 12345 "],
    ["street prefixes", "Calle "],
  ])("answers on 100 KB of %s", (_kind, unit) => {
    expect(Array.isArray(detectPhi(unit.repeat(Math.ceil(100_000 / unit.length))))).toBe(true);
  });
});

describe("checksums", () => {
  it("Luhn accepts valid card numbers and rejects every single-digit change", () => {
    for (const number of ["4111111111111111", "5500000000000004", "378282246310005", "79927398713"]) {
      expect(luhnValid(number)).toBe(true);
      const last = Number(number.at(-1));
      expect(luhnValid(number.slice(0, -1) + ((last + 1) % 10))).toBe(false);
    }
  });

  it("mod-97 accepts valid IBANs and rejects a changed digit or swapped neighbours", () => {
    for (const iban of ["GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606"]) {
      expect(ibanValid(iban)).toBe(true);
      expect(ibanValid(`${iban.slice(0, 6)}${(Number(iban[6]) + 1) % 10}${iban.slice(7)}`)).toBe(false);
      expect(ibanValid(`${iban.slice(0, 8)}${iban[9]}${iban[8]}${iban.slice(10)}`)).toBe(iban[8] === iban[9]);
    }
  });
});
