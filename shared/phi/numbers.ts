import { isIPv6 } from "node:net";
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  Metadata,
  parsePhoneNumberFromString,
} from "libphonenumber-js/min";
import type { PhiEntity } from "./entities";

/**
 * Identifiers recognised by their own checks rather than by a label in front: payment card numbers
 * (Luhn), IBANs (ISO 13616 mod-97), phone numbers outside the US pattern (libphonenumber's metadata:
 * a number must be valid for its country, not merely look like digits) and IPv6 addresses. Cheap
 * regular expressions find the candidates; the checks decide, so a dose, a version, a time or a
 * tracking number that happens to have the right shape is left alone.
 */

/** Luhn (ISO/IEC 7812): double every second digit from the right, sum the digits; valid when ≡ 0 mod 10. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * IBAN check (ISO 13616 / ISO 7064 mod 97-10): move the first four characters to the end, read letters
 * as 10..35, and the whole number must be ≡ 1 mod 97 (computed digit by digit to stay in a double).
 */
export function ibanValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = (value > 9 ? remainder * 100 + value : remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

/** 13 to 19 digits, in groups or not, starting like a card network (3 Amex/Diners, 4 Visa, 5 Mastercard, 6 Discover). */
const CARD = /(?<![\w.,/-])[3-6]\d{3}(?:[ -]?\d){9,15}(?![\w/-]|[.,]\d)/g;
/** Country code, two check digits and the account in groups of four (printed) or in one run (electronic). */
const IBAN = /(?<![\w-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])/g;
/** Where an IPv6 address may be: two colons with at most four hex digits between (the address is then grown around it). */
const IPV6_ANCHOR = /:[0-9A-Fa-f]{0,4}:/g;
const HEX_OR_COLON = /[0-9A-Fa-f:]/;
const IPV6_TAIL = /[0-9A-Fa-f:]*(?:\.\d{1,3}){0,3}/y;
/** International: "+" or "00", a country code other than 1 (the US pattern has those) and 6+ more digits in groups. */
const INTERNATIONAL = /(?<![\w+])(?:\+|00)[2-9](?:[ ./-]?\(?\d+\)?){2,8}/g;
/**
 * National: a trunk prefix 0 or a two-digit area code in parentheses (Brazil), then digits in groups.
 * Groups are bounded and split only at a separator: a long digit run must not be cut every possible way
 * (that backtracking took seconds on 80 digits).
 */
const NATIONAL =
  /(?<![\w+./-]|\d[ -])(?:\(0?\d{2}\) ?|0\d{1,4}[ ./-]?)\d{2,10}(?:[ .-]\d{2,10}){0,4}(?![\w/-]|[.,]\d)/g;
/**
 * Countries whose national formats we read without a "+". A trunk prefix 0 is European: with the "min"
 * metadata a number valid in one of these plans is mostly valid in several, so five plans cover them
 * (each check is a parse, ~15 µs: phones were ~10% of the detector's time). A two-digit area code in
 * parentheses is Latin American. Germany first: its plan is the widest (national numbers of 4 to 15
 * digits) and accepts nearly every number the others do, so a real number mostly takes one parse, not
 * two or three (the order changes only the cost: a number is kept when any plan accepts it).
 */
const TRUNK_ZERO: readonly CountryCode[] = ["DE", "GB", "FR", "IT", "NL"];
const AREA_IN_PARENTHESES: readonly CountryCode[] = ["BR", "AR", "CO"];

const digitCount = (text: string) => text.replace(/\D/g, "").length;

/** Possible lengths of the national number behind each country calling code, from libphonenumber's metadata. */
const LENGTHS_BY_CALLING_CODE = (() => {
  const lengths = new Map<string, Set<number>>();
  const metadata = new Metadata();
  for (const country of getCountries()) {
    metadata.selectNumberingPlan(country);
    const code = getCountryCallingCode(country);
    const known = lengths.get(code) ?? new Set<number>();
    for (const length of metadata.numberingPlan?.possibleLengths() ?? []) known.add(length);
    lengths.set(code, known);
  }
  return lengths;
})();

/**
 * "+" (or "00"), an existing country calling code and a national number of a length that country uses.
 * The "+" already says "phone number"; this check (a map look-up) keeps "+5 points" and "00123" out
 * without parsing, which costs ~20 µs a number.
 */
function possibleInternational(written: string): boolean {
  const digits = written.replace(/\D/g, "").slice(written.startsWith("00") ? 2 : 0);
  for (let codeLength = 1; codeLength <= 3; codeLength++) {
    const lengths = LENGTHS_BY_CALLING_CODE.get(digits.slice(0, codeLength));
    if (lengths) return lengths.has(digits.length - codeLength);
  }
  return false;
}

/**
 * Valid for its country by libphonenumber's metadata ("min": lengths and national number patterns).
 * Given the digits alone and no extraction, which parses several times faster than the written form.
 */
function validPhone(written: string, country?: CountryCode): boolean {
  const digits = written.replace(/\D/g, "");
  const number = written.startsWith("+")
    ? `+${digits}`
    : written.startsWith("00")
      ? `+${digits.slice(2)}`
      : digits;
  return parsePhoneNumberFromString(number, { defaultCountry: country, extract: false })?.isValid() ?? false;
}

function cards(text: string, found: PhiEntity[]) {
  for (const match of text.matchAll(CARD)) {
    const digits = match[0].replace(/\D/g, "");
    if (luhnValid(digits))
      found.push({ type: "ID", begin: match.index, end: match.index + match[0].length, score: 0.9 });
  }
}

function ibans(text: string, found: PhiEntity[]) {
  for (const match of text.matchAll(IBAN)) {
    // A word after the IBAN ("… 40 BIC") may have been taken as its last group: try without it.
    let candidate = match[0];
    for (let attempt = 0; attempt < 2 && candidate.length >= 15; attempt++) {
      if (ibanValid(candidate.replaceAll(" ", ""))) {
        found.push({ type: "ID", begin: match.index, end: match.index + candidate.length, score: 0.95 });
        break;
      }
      candidate = candidate.replace(/ ?[A-Z0-9]{1,4}$/, "");
    }
  }
}

function ipv6(text: string, found: PhiEntity[]) {
  let after = 0;
  for (const anchor of text.matchAll(IPV6_ANCHOR)) {
    if (anchor.index < after) continue;
    let begin = anchor.index;
    while (begin > 0 && HEX_OR_COLON.test(text[begin - 1] as string)) begin--;
    IPV6_TAIL.lastIndex = begin;
    const end = begin + (IPV6_TAIL.exec(text)?.[0].length ?? 0);
    after = end;
    // Not part of a longer word or number ("abc12:34:56"); isIPv6 rejects times and ratios ("10:30:45", "1:2:3").
    if (/[\w.]/.test(text[begin - 1] ?? " ") || /\w/.test(text[end] ?? " ")) continue;
    if (isIPv6(text.slice(begin, end))) found.push({ type: "URL", begin, end, score: 0.95 });
  }
}

/** The longest prefix of `candidate` (dropping trailing digit groups) that `valid` accepts. */
function longestValid(candidate: string, valid: (number: string) => boolean): string | undefined {
  let number = candidate.replace(/[\s(./-]+$/, "");
  while (digitCount(number) >= 7) {
    if (valid(number)) return number;
    const shorter = number.replace(/[ ./-]*\(?\d+\)?$/, "");
    if (shorter === number) return undefined;
    number = shorter;
  }
  return undefined;
}

function phones(text: string, found: PhiEntity[]) {
  for (const match of text.matchAll(INTERNATIONAL)) {
    const number = longestValid(match[0], possibleInternational);
    if (number)
      found.push({ type: "PHONE_OR_FAX", begin: match.index, end: match.index + number.length, score: 0.92 });
  }
  for (const match of text.matchAll(NATIONAL)) {
    const digits = digitCount(match[0]);
    if (digits < 9 || digits > 12 || match[0].startsWith("00")) continue;
    const countries = match[0].startsWith("(") ? AREA_IN_PARENTHESES : TRUNK_ZERO;
    if (countries.some((country) => validPhone(match[0], country)))
      found.push({
        type: "PHONE_OR_FAX",
        begin: match.index,
        end: match.index + match[0].length,
        score: 0.85,
      });
  }
}

/** Cards, IBANs, phone numbers in international and European/Latin American national formats, IPv6. */
export function checkedNumbers(text: string): PhiEntity[] {
  const found: PhiEntity[] = [];
  cards(text, found);
  ibans(text, found);
  ipv6(text, found);
  phones(text, found);
  return found;
}
