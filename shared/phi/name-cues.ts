import type { PhiEntity } from "./entities";

/**
 * Names recognised by what introduces them rather than by a first-name list, so a surname alone or a
 * name from anywhere in the world is found: after "my name is", "I'm", "this is … speaking", a form
 * field ("Last name? Thistlewood.", "Surname: Kowalczyk"), as a speaker label at a line start ("Ubul: …"),
 * and in a list after a cue of people ("Present: Kovács, Nowak and Lindqvist").
 * `isOrdinary` says whether a capitalised word is an everyday word, label or place (never a name).
 */

/** One name: capitalised words in any alphabet, with the particles of surnames ("Van der Berg", "Ferreira da Silva", "Ó Súilleabháin"). */
const NAME_WORD = "\\p{Lu}[\\p{L}'’-]*";
const PARTICLE =
  "(?:van der|van den|van de|van|von|der|den|ter|ten|de la|de los|de|da|do|dos|das|del|della|di|du|le|la|bin|ibn|al)";
const NAME = `(?:${NAME_WORD})(?:[ \\t](?:${PARTICLE}[ \\t])?${NAME_WORD}){0,3}`;
const NAME_AT = new RegExp(NAME, "uy");

/** An upper-case letter, spelled out so the cue patterns need no Unicode mode (scanning is much faster without). */
const UPPER = "[A-Z\\u00C0-\\u00DE\\u0100-\\u017F\\u0391-\\u03A9\\u0410-\\u042F\\u1E00-\\u1EFF]";

/**
 * The three kinds of cue, in one pattern so the text is scanned once: a phrase that puts a name right
 * after it ("my name is", "I'm", "this is"), a form field asking for a name at a line or sentence start
 * ("Last name?", "Surname:", "Name:"), and the head of a list of people ("Present:", "Apologies from").
 */
const CUES = new RegExp(
  [
    `(?<say>\\b(?:[Mm]y (?:full |first |last |family |sur)?name is|[Mm]y name's|[Tt]he name's|[Ss]urname is|[Nn]ame is|I'm|I am|[Tt]his is|[Cc]all me|[Ss]igned,?|[Rr]egards,|[Ss]incerely,)[ \\t]+)`,
    `(?<field>(?:^|[.?!;][ \\t]+)(?:(?:[Ff]irst|[Ll]ast|[Ff]amily|[Ff]ull|[Gg]iven|[Mm]iddle)[ \\t]?[Nn]ame|[Ss]urname|[Nn]ame|[Nn]ombre|[Aa]pellidos?|[Pp]rénom|[Nn]om|[Vv]orname|[Nn]achname)[ \\t]*[?:][ \\t]*)`,
    `(?<list>\\b(?:[Pp]resent|[Aa]bsent|[Aa]ttendees|[Aa]ttending|[Ii]nvited|[Ii]nvitees|[Aa]pologies from|[Aa]pologies|[Pp]articipants|[Mm]embers|[Gg]uests|[Vv]olunteers|[Ss]peakers|[Pp]anel(?:ists)?|[Ww]itnesses|[Tt]eam [A-Z0-9]\\w*|[Rr]ota(?: [a-z ]{0,20})?)[ \\t]*:?[ \\t]+)`,
  ]
    .map((cue) => `${cue}(?=${UPPER})`)
    .join("|"),
  "gm",
);
const LIST_SEPARATOR = /(?:,[ \t]*(?:and[ \t]+|&[ \t]+)?|[ \t]+(?:and|&)[ \t]+)(?=\p{Lu})/uy;
/** A line that starts with one capitalised word and a colon, and goes on with words: a speaker and what they said. */
const SPEAKER = new RegExp(`^(${UPPER}[^\\s:,.;!?]{1,30}):[ \\t]+(?=[^\\s\\d+]+[ \\t,.!?]+[^\\s\\d])`, "gm");
const SPEAKER_NAME = /^\p{Lu}\p{Ll}+(?:[-'’]\p{Lu}?\p{Ll}+)?$/u;

type Found = { begin: number; end: number };

function nameAt(text: string, at: number, isOrdinary: (word: string) => boolean): Found | undefined {
  NAME_AT.lastIndex = at;
  const match = NAME_AT.exec(text);
  if (!match) return undefined;
  // Drop ordinary words from the end ("Dembélé From …" cannot happen, but "Fitzgerald Speaking" can).
  const words = match[0].split(/[ \t]+/);
  while (words.length > 0 && isOrdinary(words.at(-1) as string)) words.pop();
  if (words.length === 0 || isOrdinary(words[0] as string)) return undefined;
  return { begin: at, end: at + words.join(" ").length };
}

/** The names of a list ("Kovács, Nowak and Lindqvist"); none when fewer than two ("Present Simple is …" is a sentence). */
function peopleListAt(text: string, start: number, isOrdinary: (word: string) => boolean): Found[] {
  const names: Found[] = [];
  let at = start;
  for (let name = nameAt(text, at, isOrdinary); name; name = nameAt(text, at, isOrdinary)) {
    names.push(name);
    LIST_SEPARATOR.lastIndex = name.end;
    const separator = LIST_SEPARATOR.exec(text);
    if (!separator) break;
    at = name.end + separator[0].length;
  }
  return names.length >= 2 ? names : [];
}

export function cuedNames(text: string, isOrdinary: (word: string) => boolean): PhiEntity[] {
  const found: PhiEntity[] = [];
  const push = (...names: (Found | undefined)[]) => {
    // Written out, not spread: every entity has the same shape, which keeps sorting and merging fast.
    for (const name of names)
      if (name) found.push({ type: "NAME", begin: name.begin, end: name.end, score: 0.8 });
  };
  for (const cue of text.matchAll(CUES)) {
    const at = cue.index + cue[0].length;
    if (cue.groups?.say) push(nameAt(text, at, isOrdinary));
    else if (cue.groups?.field) {
      const name = nameAt(text, at, isOrdinary);
      // "Name: Halvorsen, Kari": the given name after the surname belongs to the same name.
      const given =
        name && text.startsWith(", ", name.end) ? nameAt(text, name.end + 2, isOrdinary) : undefined;
      push(name && given ? { begin: name.begin, end: given.end } : name);
    } else push(...peopleListAt(text, at, isOrdinary));
  }
  for (const cue of text.matchAll(SPEAKER)) {
    const speaker = cue[1] as string;
    if (SPEAKER_NAME.test(speaker) && !isOrdinary(speaker))
      push({ begin: cue.index, end: cue.index + speaker.length });
  }
  return found;
}
