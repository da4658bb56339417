import { readFileSync } from "node:fs";
import type { PhiType } from "../../shared/phi";

/**
 * The PHI evaluation set: hand-written snippets (handwritten.txt and general.txt, inline
 * [[TYPE:text]] or [[TYPE/kind:text]] labels, "\n" for a line break inside a snippet) plus snippets
 * generated from templates with a fixed seed, so every run scores the same samples, and the held-out
 * snippets (holdout.txt). Each sample belongs to a part: the clinical-style text the detector was
 * first built for, or the general-domain text of issue 13 (a "# part: general" line switches a file to
 * it); a label's kind (address-eu, phone-intl, card, iban, ipv6, surname-cue…) is scored on its own.
 */
export type Label = { type: PhiType; kind?: string; begin: number; end: number };
type Source = "handwritten" | "generated" | "general" | "holdout";
export type Part = "clinical" | "general";
export type Sample = { text: string; labels: Label[]; source: Source; part: Part };

export function parseMarkup(line: string): { text: string; labels: Label[] } {
  const labels: Label[] = [];
  const marked = line.replaceAll("\\n", "\n");
  let text = "";
  let at = 0;
  for (const match of marked.matchAll(/\[\[([A-Z_]+)(?:\/([a-z0-9-]+))?:(.+?)\]\]/gs)) {
    text += marked.slice(at, match.index);
    const value = match[3] as string;
    const kind = match[2] ? { kind: match[2] } : {};
    labels.push({ type: match[1] as PhiType, ...kind, begin: text.length, end: text.length + value.length });
    text += value;
    at = (match.index ?? 0) + match[0].length;
  }
  return { text: text + marked.slice(at), labels };
}

function fromFile(name: Exclude<Source, "generated">): Sample[] {
  let part: Part = name === "general" ? "general" : "clinical";
  const samples: Sample[] = [];
  for (const line of readFileSync(new URL(`./${name}.txt`, import.meta.url), "utf8").split("\n")) {
    if (line.startsWith("# part: general")) part = "general";
    if (line.trim() && !line.startsWith("#")) samples.push({ ...parseMarkup(line), source: name, part });
  }
  return samples;
}

/** Mulberry32: a tiny deterministic PRNG, so the generated half of the set never changes between runs. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST =
  "Maria James Aisha Carlos Mei Olga Samuel Fatima Diego Hannah Ethan Priya Noah Chloe Omar Lucia Victor Ingrid Jamal Rosa Andre Naomi Tyrone Keiko Lars Beatriz Malik Yusuf Colleen Dmitri".split(
    " ",
  );
const LAST =
  "Delgado Okafor Brightwater Lindqvist Moreau Castellanos Whitfield Abernathy Nakashima Oyelaran Thornbury Vasquez Kowalczyk Ferreira Haddad Ashworth Mbeki Quillfeather Rasmussen Holloway".split(
    " ",
  );
const STREETS =
  "Larkspur Lane|Maple Avenue|Harbor Rd|Oak St|Pine Street|Willow Dr|Sunset Blvd|Cedar Ct|Elm Way|Ridge Road".split(
    "|",
  );
const CITIES =
  "Springfield, IL|Denver, CO|Austin, TX|Portland, OR|Raleigh, NC|Tucson, AZ|Boise, ID|Madison, WI|Tampa, FL|Omaha, NE".split(
    "|",
  );
const JOBS =
  "teacher|nurse|electrician|accountant|truck driver|barista|software engineer|social worker|pharmacist|mail carrier".split(
    "|",
  );
const MONTHS = "January February March April May June July August September October November December".split(
  " ",
);

function pickFrom(rand: () => number) {
  return <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)] as T;
}

function generated(count: number): Sample[] {
  const rand = random(20261122);
  const pick = pickFrom(rand);
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
  const pad = (n: number) => String(n).padStart(2, "0");
  const fills: Record<string, () => string> = {
    NAME: () => `${pick(FIRST)} ${pick(LAST)}`,
    FIRST: () => pick(FIRST),
    SURNAME: () => pick(LAST),
    DATE: () =>
      pick([
        () => `${pad(int(1, 12))}/${pad(int(1, 28))}/${int(1940, 2027)}`,
        () => `${int(1940, 2027)}-${pad(int(1, 12))}-${pad(int(1, 28))}`,
        () => `${pick(MONTHS)} ${int(1, 28)}, ${int(1990, 2027)}`,
        () => `${pick(MONTHS).slice(0, 3)} ${int(1, 28)}`,
        () => `${int(1, 28)} ${pick(MONTHS)} ${int(1990, 2027)}`,
        () => `${int(1, 12)}/${int(1, 28)}/${pad(int(0, 27))}`,
      ])(),
    PHONE_OR_FAX: () =>
      pick([
        () => `(${int(201, 989)}) 555-${String(int(100, 9999)).padStart(4, "0")}`,
        () => `${int(201, 989)}-555-${String(int(100, 9999)).padStart(4, "0")}`,
        () => `${int(201, 989)}.555.${String(int(100, 9999)).padStart(4, "0")}`,
        () => `+1 ${int(201, 989)} 555 ${String(int(100, 9999)).padStart(4, "0")}`,
      ])(),
    EMAIL: () =>
      `${pick(FIRST).toLowerCase()}.${pick(LAST).toLowerCase()}${int(1, 99)}@${pick(["mail.example", "inbox.example.org", "clinic.example.com"])}`,
    ID: () =>
      pick([
        () => `${int(10000000, 99999999)}`,
        () => `${int(100, 899)}-${pad(int(10, 99))}-${int(1000, 9999)}`,
        () => `MB${int(100000, 999999)}`,
      ])(),
    URL: () =>
      `https://${pick(["portal", "my", "records"])}.${pick(["health", "clinic", "care"])}.example/${pick(["login", "u/", "chart?id="])}${int(1, 9999)}`,
    STREET: () => `${int(1, 9999)} ${pick(STREETS)}`,
    CITY: () => `${pick(CITIES)} ${int(10000, 99999)}`,
    AGE: () => String(int(90, 104)),
    JOB: () => pick(JOBS),
  };
  const TEMPLATES: [string, Record<string, PhiType>][] = [
    ["Coach: Hi {FIRST}, how did the week go?", { FIRST: "NAME" }],
    ["Client {NAME} reported better sleep since {DATE}.", { NAME: "NAME", DATE: "DATE" }],
    ["Please call {NAME} at {PHONE_OR_FAX} to confirm.", { NAME: "NAME", PHONE_OR_FAX: "PHONE_OR_FAX" }],
    ["Email from {EMAIL} about rescheduling.", { EMAIL: "EMAIL" }],
    ["DOB: {DATE}. MRN: {ID}.", { DATE: "DATE", ID: "ID" }],
    ["Lives at {STREET}, {CITY}.", { STREET: "ADDRESS", CITY: "ADDRESS" }],
    ["Pt is a {AGE}-year-old widow, independent in ADLs.", { AGE: "AGE" }],
    ["She works as a {JOB} and walks during breaks.", { JOB: "PROFESSION" }],
    ["Records uploaded to {URL} by the front desk.", { URL: "URL" }],
    ["Seen by Dr. {SURNAME} on {DATE} for follow-up.", { SURNAME: "NAME", DATE: "DATE" }],
    ["Client: My neighbor {NAME} drives me to the clinic.", { NAME: "NAME" }],
    ["Fax results to {PHONE_OR_FAX}, attn {NAME}.", { PHONE_OR_FAX: "PHONE_OR_FAX", NAME: "NAME" }],
    ["Next session with {FIRST} is {DATE}.", { FIRST: "NAME", DATE: "DATE" }],
    ["Policy # {ID} on file for {NAME}.", { ID: "ID", NAME: "NAME" }],
    ["I'm a {JOB}, so my schedule changes every week.", { JOB: "PROFESSION" }],
    ["Her father turned {AGE} this spring.", { AGE: "AGE" }],
    ["Goal: walk 30 minutes, 5 days a week, starting {DATE}.", { DATE: "DATE" }],
    ["Reach me at {EMAIL} or {PHONE_OR_FAX}.", { EMAIL: "EMAIL", PHONE_OR_FAX: "PHONE_OR_FAX" }],
    ["Thanks {FIRST}, see you next week.", { FIRST: "NAME" }],
    ["Mailing address: {STREET}, {CITY}", { STREET: "ADDRESS", CITY: "ADDRESS" }],
  ];
  const NEGATIVES = [
    "Take Metformin 500 mg with dinner.",
    "Walk 20 minutes after each meal.",
    "Drink 8 glasses of water a day.",
    "Sleep goal: 7 hours per night.",
    "The May workshop covers mindful eating.",
    "Blood pressure was 128/82 today.",
    "Reduce sodium to under 2,300 mg daily.",
    "Session 4 of 12 completed.",
    "Prescribed Atorvastatin 20 mg nightly.",
    "Class meets Tuesdays at 6 pm in Room 3.",
  ];
  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 6 === 5) {
      samples.push({ text: pick(NEGATIVES), labels: [], source: "generated", part: "clinical" });
      continue;
    }
    const [template, types] = TEMPLATES[i % TEMPLATES.length] as [string, Record<string, PhiType>];
    const markup = template.replace(
      /\{([A-Z_]+)\}/g,
      (_, slot: string) => `[[${types[slot]}:${(fills[slot] as () => string)()}]]`,
    );
    samples.push({ ...parseMarkup(markup), source: "generated", part: "clinical" });
  }
  return samples;
}

export function evaluationSet(): Sample[] {
  return [...fromFile("handwritten"), ...generated(240), ...fromFile("general"), ...fromFile("holdout")];
}
