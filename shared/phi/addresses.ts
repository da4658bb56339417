import { STATES, WORLD_CITIES } from "./dictionaries/places";
import { COMMON, LABEL_WORDS, MONTHS, WEEKDAYS } from "./dictionaries/words";
import type { PhiEntity } from "./entities";

/**
 * Addresses beyond the US "number + name + suffix" street of the detector's rules: European and Latin
 * American streets ("Hauptstraße 42", "Calle de Alcalá 123, 4º B", "12 rue des Lilas", "Av. Corrientes
 * 1234, piso 5"), postcodes with their city ("10115 Berlin", "01426-001 São Paulo - SP", "London W11
 * 2EU"), cities abroad after "moved to"/"lives in", and US addresses without a street suffix or on
 * several lines ("4410 Broadway, Oakland, CA 94611", a line holding only "88 Peachtree Center").
 *
 * Speed: a pattern that starts with "any capitalised word" tries every word of the text, so each one
 * here starts from something rare (a street type, a state and ZIP, a comma or line start, a digit) and
 * the words before it are checked from there.
 */

/** A capitalised word in any alphabet ("Göteborg", "Łódź", "São"). Spaces within a line only: never across lines. */
const CAP = "\\p{Lu}[\\p{L}'’-]*";
/** An upper-case letter spelled out, for anchors: they scan the whole text, much faster without Unicode mode. */
const UPPER = "[A-Z\\u00C0-\\u00DE\\u0100-\\u017F\\u0391-\\u03A9\\u0410-\\u042F\\u1E00-\\u1EFF]";
/** A capitalised word for anchors (letters checked by the sticky pattern after). */
const CAP_ANCHOR = `${UPPER}[^\\s,;:.!?]*`;
/** Small words inside street and city names ("Calle de la Paz", "Rio de Janeiro", "Frankfurt am Main"). */
const PARTICLE =
  "(?:de|del|de la|de los|de las|da|do|dos|das|di|della|delle|des|du|la|le|los|las|am|an|der|den|sur|y|e)";
const PLACE_WORDS = `${CAP}(?:[ -](?:${PARTICLE} )?${CAP}){0,3}`;
const WORLD_CITY = WORLD_CITIES.map((c) => c.replace(/[.]/g, "\\.")).join("|");
const STATE = STATES.join("|");
/** Street types written as one word with the name ("Hauptstraße", "Keizersgracht", "Drottninggatan", "Vesterbrogade"). */
const STREET_SUFFIX =
  "(?:straße|strasse|str\\.|gasse|weg|platz|allee|ring|damm|ufer|gracht|straat|laan|plein|singel|kade|steeg|gatan|gata|vägen|väg|gränd|gade|vej|veien|gate|torget|katu|tie)";
/** Street types written before the name ("Calle", "Rua", "Via", "ul.", "Avenue Louise"). */
const STREET_PREFIX =
  "(?:Calle|C\\/|Carrer|Carretera|Avenida|Avda\\.?|Av\\.|Avenue|Rua|Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Strada|Paseo|Plaza|Praça|Praca|Travessa|Alameda|Rambla|Ronda|Camino|Jirón|Jiron|Jr\\.|Carrera|Cra\\.|ul\\.|ulica|al\\.|aleja|Rue|Boulevard|Chaussée|Place|Quai)";
/** Street types written as a word after the name ("Mariahilfer Straße", "Andrássy út"). */
const STREET_WORD_AFTER = "(?:Straße|Strasse|Allee|Platz|Weg|Gasse|út|utca|tér|körút)";
/** House number: "12", "88a", "84/92", "10-34", "# 10-34", "nº 5". */
const HOUSE_NUMBER = "(?:#[ \\t]?|n[º°o]\\.?[ \\t]?)?\\d{1,5}[A-Za-z]?(?:[ \\t]?[/-][ \\t]?\\d{1,4})?";
/** Flat, floor, door or neighbourhood after the number ("4º B", "apto 82", "piso 5, depto B", "Col. Juárez", "m. 15", "bus 3", "2. tv"). */
const UNIT = `(?:,?[ \\t]*(?:\\d{1,2}[ \\t]?[ºª°](?:[ \\t]?[A-Za-z]{1,4}\\.?)?|\\d{1,2}[rn][ \\t]\\d[a]|(?:apto|apt|piso|depto|dpto|dept|bus|m|flat|unit|suite|door|puerta)\\.?[ \\t]*[\\w-]{1,5}|\\d\\.[ \\t]?(?:tv|th|mf)\\.?|Esq\\.|Dto\\.|Col\\.[ \\t]+${CAP}(?:[ \\t]${CAP}){0,3}))`;
/** Postcodes in front of the city: DE FR ES IT MX (5 digits), AT CH BE DK HU (4), NL, SE CZ, PL, PT, BR, AR, CL. */
const POSTCODE =
  "(?:\\d{5}-\\d{3}|\\d{4}-\\d{3}|\\d{2}-\\d{3}|\\d{3}[ \\t]\\d{2}|\\d{4}[ \\t]?[A-Z]{2}|[A-Z]\\d{4}[A-Z]{3}|\\d{7}|\\d{4,5})";
/** UK and Irish postcodes, after the city ("London W11 2EU", "Dublin D04 X2P7"). */
const UK_IE_POSTCODE = "(?:[A-Z]{1,2}\\d[A-Z\\d]?[ \\t]?\\d[A-Z]{2}|[A-Z]\\d{2}[ \\t]?[A-Z\\d]{4})";

const NOT_A_PLACE = new Set([...COMMON, ...LABEL_WORDS, ...MONTHS, ...WEEKDAYS]);
const firstWord = (text: string) => /\p{L}+/u.exec(text)?.[0] ?? "";
const allPlaceWords = (text: string) => !text.split(/[ \t]+/).some((word) => NOT_A_PLACE.has(word));

type Found = { begin: number; end: number };
type Rule = {
  /** Where a candidate may be: cheap to scan for. */
  anchor: RegExp;
  /** Candidate starts for an anchor found at `at`, most likely first (e.g. up to three words back). */
  starts: (text: string, at: number, anchor: RegExpExecArray) => number[];
  /** The address itself, matched at a start (sticky). */
  address: RegExp;
  /** Checks on the words matched (group 1 when the pattern has one). */
  keep?: (words: string) => boolean;
};

const LETTER = /\p{L}/u;
/**
 * Is the character at `at` a letter? ASCII by its code, the rest by its Unicode category: this runs on
 * every character of the words before an anchor, and a regular expression test per character cost more
 * than the anchors' scans.
 */
function letterAt(text: string, at: number): boolean {
  const code = text.charCodeAt(at); // NaN outside the text: not a letter
  if (code < 128) return (code | 32) >= 97 && (code | 32) <= 122;
  return code > 127 && LETTER.test(text[at] as string);
}

/** The start of the word holding position `at`. */
function wordStart(text: string, at: number): number {
  let start = at;
  while (start > 0 && (letterAt(text, start - 1) || text.charCodeAt(start - 1) === 45) /* - */) start--;
  return start;
}

/** Starts of the 1..n words before `at` on the same line, nearest first ("Glen Ellyn, IL …" from the comma). */
function wordsBack(text: string, at: number, count: number): number[] {
  const starts: number[] = [];
  let end = at;
  for (let i = 0; i < count; i++) {
    const start = wordStart(text, end);
    if (start === end) break;
    starts.push(start);
    if (start < 2 || (text[start - 1] !== " " && text[start - 1] !== "\t")) break;
    end = start - 1;
  }
  return starts;
}

const sticky = (source: string, flags = "") => new RegExp(source, `uy${flags}`);
const atAnchor = (_text: string, at: number) => [at];

const RULES: readonly Rule[] = [
  // "Hauptstraße 42", "Keizersgracht 221", "Drottninggatan 53", "Vesterbrogade 14, 2. tv"
  {
    anchor: new RegExp(`[ \\t]\\d(?<=${STREET_SUFFIX}[ \\t]\\d)`, "g"),
    starts: (text, at) => [wordStart(text, at)],
    address: sticky(`(\\p{Lu}[\\p{L}-]*)${STREET_SUFFIX}[ \\t]+${HOUSE_NUMBER}${UNIT}{0,3}`),
    keep: (word) => !NOT_A_PLACE.has(word), // "During 5 weeks", "Spring 2024"
  },
  // "Mariahilfer Straße 88a/3", "Andrássy út 60"
  {
    anchor: new RegExp(`[ \\t]${STREET_WORD_AFTER}[ \\t]+\\d`, "g"),
    starts: (text, at) => wordsBack(text, at, 1),
    address: sticky(`${CAP}[ \\t]${STREET_WORD_AFTER}[ \\t]+${HOUSE_NUMBER}${UNIT}{0,3}`),
  },
  // "Calle de Alcalá 123, 4º B", "Via Garibaldi 7", "ul. Marszałkowska 84/92 m. 15", "Calle 72 # 10-34", "Avenue Louise 54"
  {
    anchor: new RegExp(`${STREET_PREFIX}[ \\t]`, "g"),
    starts: (text, at) => (letterAt(text, at - 1) ? [] : [at]),
    address: sticky(
      `${STREET_PREFIX}[ \\t](?:(?:${PARTICLE}[ \\t])*${CAP}(?:[ \\t](?:${PARTICLE}[ \\t])*${CAP}){0,3}|\\d{1,3}[A-Z]?),?[ \\t]${HOUSE_NUMBER}${UNIT}{0,3}`,
    ),
  },
  // "12 rue des Lilas", "8 boulevard Haussmann"
  {
    anchor:
      /\d(?:[ \t]?(?:bis|ter))?,?[ \t](?:rue|Rue|avenue|boulevard|bd|allée|chemin|impasse|quai|cours)[ \t]/g,
    starts: (text, at) => {
      let start = at;
      while (start > 0 && /\d/.test(text[start - 1] as string)) start--;
      return [start];
    },
    address: sticky(
      `\\d{1,4}(?:[ \\t]?(?:bis|ter))?,?[ \\t](?:rue|Rue|avenue|boulevard|bd|allée|chemin|impasse|quai|cours)[ \\t](?:de la |de l'|du |des |de |d')?\\p{L}[\\p{L}'-]*(?:[ \\t]${CAP}){0,3}`,
    ),
  },
  // Postcode then city, after a comma or at a line start: "10115 Berlin", "1016 DV Amsterdam", "01426-001 São Paulo - SP", "20121 Milano (MI)"
  {
    anchor: /(?:,[ \t]|^)(?=[A-Z]?\d)/gm,
    starts: (_text, at, anchor) => [at + anchor[0].length],
    address: sticky(
      `${POSTCODE}[ \\t](${PLACE_WORDS})(?:[ \\t][A-Z]\\b)?(?:[ \\t]-[ \\t][A-Z]{2}\\b|[ \\t]\\([A-Z]{2}\\))?`,
    ),
    keep: allPlaceWords,
  },
  // City then postcode: "Lima 15001", "London W11 2EU", "Dublin D04 X2P7"
  {
    anchor: new RegExp(`[ \\t](?:${UK_IE_POSTCODE}|\\d{5})\\b`, "g"),
    starts: (text, at) => wordsBack(text, at, 3).reverse(),
    address: sticky(`(?:${PLACE_WORDS})[ \\t](?:${UK_IE_POSTCODE}|\\d{5})\\b`),
    keep: (address) => !NOT_A_PLACE.has(firstWord(address)),
  },
  // A US city before its state and ZIP on any line ("Ames, IA 50010"), and a house number and name before it
  // without a street suffix ("4410 Broadway, Oakland, CA 94611").
  {
    anchor: new RegExp(`,[ \\t](?:${STATE})[ \\t]\\d{5}\\b`, "g"),
    starts: (text, at) => wordsBack(text, at, 3).reverse(),
    address: sticky(`${CAP}(?:[ \\t]${CAP}){0,2},[ \\t](?:${STATE})[ \\t]\\d{5}(?:-\\d{4})?\\b`),
    keep: (address) => !NOT_A_PLACE.has(firstWord(address)),
  },
  {
    anchor: new RegExp(`,[ \\t]${CAP_ANCHOR}(?:[ \\t]${CAP_ANCHOR}){0,2},[ \\t](?:${STATE})\\b`, "g"),
    starts: (text, at) => {
      const words = wordsBack(text, at, 4);
      const last = words.at(-1);
      // The number before the farthest word: "4410 Broadway", "9 Old Post Road North".
      const number =
        last !== undefined ? /(\d{1,5})[ \t]$/.exec(text.slice(Math.max(0, last - 7), last)) : null;
      return number && last !== undefined ? [last - number[0].length] : [];
    },
    address: sticky(`\\d{1,5}[ \\t]${CAP}(?:[ \\t]${CAP}){0,3}`),
  },
  // A house number and name after "at"/"to" ("Drop it off at 1600 Amphitheatre", "live at 17 Wildwood").
  {
    anchor: /[ \t]\d(?<=(?:\bat|\bto|address is|Ship to:)[ \t]\d)/g,
    starts: (_text, at) => [at + 1],
    address: sticky("\\d{1,5}[ \\t](\\p{Lu}\\p{Ll}+(?:[ \\t]\\p{Lu}\\p{Ll}+){0,3})(?![\\p{L}\\d])"),
    keep: allPlaceWords,
  },
  // A line holding only a house number and name, or only a suite: an address written on several lines.
  {
    anchor: new RegExp(
      `^(?=\\d{1,5}[ \\t]${UPPER}|(?:Suite|Ste\\.?|Apt\\.?|Apartment|Unit|Floor|Flat)[ \\t])`,
      "gm",
    ),
    starts: atAnchor,
    address: sticky(
      "(?:\\d{1,5}[ \\t]\\p{Lu}\\p{Ll}+(?:[ \\t]\\p{Lu}\\p{Ll}+){0,3}|(?:Suite|Ste\\.?|Apt\\.?|Apartment|Unit|Floor|Flat)[ \\t][\\w-]{1,5})$",
      "m",
    ),
    keep: (address) => !NOT_A_PLACE.has(firstWord(address)) || /^\D/.test(address),
  },
  // A city abroad after a cue of where someone lives or comes from ("moved to Kraków", "is from Medellín").
  {
    anchor: new RegExp(
      `[ \\t](?:to|in|from)[ \\t](?=${UPPER})(?<=\\b(?:moved to|moving to|move to|lives in|live in|living in|grew up in|born in|staying in|(?:is|are|was|were|am|comes?) from|relocated to|relocating to)[ \\t])`,
      "g",
    ),
    starts: (_text, at, anchor) => [at + anchor[0].length],
    address: sticky(`(?:${WORLD_CITY})(?![\\p{L}])`),
  },
  // The city after a street line and its unit ("Calle 72 # 10-34, Apto 501, Bogotá").
  {
    anchor: new RegExp(`\\d\\w?,[ \\t](?=${UPPER})`, "g"),
    starts: (_text, at, anchor) => [at + anchor[0].length],
    address: sticky(`(?:${WORLD_CITY})(?![\\p{L}])`),
  },
];

function matchAt(rule: Rule, text: string, start: number): Found | undefined {
  rule.address.lastIndex = start;
  const match = rule.address.exec(text);
  if (!match || (rule.keep && !rule.keep(match[1] ?? match[0]))) return undefined;
  return { begin: start, end: start + match[0].length };
}

export function addresses(text: string): PhiEntity[] {
  const found: PhiEntity[] = [];
  for (const rule of RULES) {
    for (const anchor of text.matchAll(rule.anchor)) {
      for (const start of rule.starts(text, anchor.index, anchor)) {
        const address = matchAt(rule, text, start);
        if (address) {
          // Written out, not spread: every entity has the same shape, which keeps sorting and merging fast.
          found.push({ type: "ADDRESS", begin: address.begin, end: address.end, score: 0.86 });
          break;
        }
      }
    }
  }
  return found;
}
