/**
 * What a question says about time, for ranking the turns it might be answered by. Two cues, both read from the
 * question's text alone (English):
 * - `asksTime`: it asks for a time ("When did…", "What year…", "How long ago…"). The turn that answers it
 *   usually tells the event with a time in it ("…yesterday", "last Saturday", "in May", "two years ago"): the
 *   expected answer type of question answering, applied to ranking.
 * - `periods`: the dates it names ("…on 8 May 2023", "…in December 2023", "…in 2024"). A turn said in that
 *   period (its `occurred_at`) is more likely the one meant.
 *
 * @example
 * timeCues("What did Ana say on 8 May, 2023?") // { asksTime: false, periods: [{ year: 2023, month: 4, day: 8 }] }
 * timeCues("When did Ana move to Porto?")      // { asksTime: true, periods: [] }
 */
export interface TimeCues {
  asksTime: boolean;
  periods: Period[];
}

/** A named date, as precise as the question gives it (UTC fields; month 0–11). */
export interface Period {
  year?: number;
  month?: number;
  day?: number;
}

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const MONTH = `(${MONTHS.join("|")}|sept)`;
const DAY = String.raw`(\d{1,2})(?:st|nd|rd|th)?`;
const YEAR = String.raw`((?:19|20)\d\d)`;
/** "8 May 2023", "8th of May, 2023", "8 May". */
const DAY_MONTH = new RegExp(String.raw`\b${DAY}\s+(?:of\s+)?${MONTH}\b(?:\s*,?\s*${YEAR}\b)?`, "gi");
/** "May 8, 2023", "December 1,2023", "May 8th". */
const MONTH_DAY = new RegExp(String.raw`\b${MONTH}\s+${DAY}\b(?:\s*,?\s*${YEAR}\b)?`, "gi");
/** "May 2023", "December, 2023". */
const MONTH_YEAR = new RegExp(String.raw`\b${MONTH}\s*,?\s*${YEAR}\b`, "gi");
/** "in December": a month alone ("may" only as "May" inside the sentence: "May I…" is a verb). */
const MONTH_ALONE = new RegExp(String.raw`\b${MONTH}\b`, "gi");
/** Every date read here has a digit or a month's name: most questions are passed over at this one test. */
const MAY_NAME_A_DATE = new RegExp(String.raw`\d|${MONTH}`, "i");
const YEAR_ALONE = new RegExp(String.raw`\b${YEAR}\b`, "g");

/** The time cues of a question. */
export function timeCues(question: string): TimeCues {
  const wh = FIRST_WH.exec(question);
  const asksTime = wh !== null && (/^when$/i.test(wh[1]!) || /^(?:how\s+long|(?:what|which)\s+(?:year|month|day|date|time))$/i.test(wh[0]));
  return { asksTime, periods: namedPeriods(question) };
}

/** The question's first wh-word and the word after it: "When did…", "How long…", "What year…", "So when…". */
const FIRST_WH = /\b(what|which|who|whom|whose|where|when|why|how)\b(?:\s+([\p{L}]+))?/iu;

function monthOf(name: string): number {
  const m = name.toLowerCase();
  return m === "sept" ? 8 : MONTHS.indexOf(m);
}

/** The dates a text names, most precise first; each span is read once. */
export function namedPeriods(text: string): Period[] {
  if (!MAY_NAME_A_DATE.test(text)) return [];
  const out: Period[] = [];
  let rest = text;
  const take = (re: RegExp, read: (m: RegExpExecArray) => Period | undefined) => {
    rest = rest.replace(re, (...args) => {
      const m = args.slice(0, -2) as unknown as RegExpExecArray;
      const offset = args[args.length - 2] as number;
      const p = read(Object.assign(m, { index: offset }));
      if (!p) return m[0];
      out.push(p);
      return " ".repeat(m[0].length);
    });
  };
  const day = (d: string) => (Number(d) >= 1 && Number(d) <= 31 ? Number(d) : undefined);
  const withYear = (p: Period, y: string | undefined): Period => (y ? { year: Number(y), ...p } : p);
  take(DAY_MONTH, (m) => (day(m[1]!) ? withYear({ month: monthOf(m[2]!), day: day(m[1]!)! }, m[3]) : undefined));
  take(MONTH_DAY, (m) => (day(m[2]!) && !isVerbMay(m[1]!, m.index, text) ? withYear({ month: monthOf(m[1]!), day: day(m[2]!)! }, m[3]) : undefined));
  take(MONTH_YEAR, (m) => ({ year: Number(m[2]), month: monthOf(m[1]!) }));
  take(MONTH_ALONE, (m) => (isVerbMay(m[1]!, m.index, text) ? undefined : { month: monthOf(m[1]!) }));
  take(YEAR_ALONE, (m) => ({ year: Number(m[1]) }));
  return out;
}

/** "may" in lower case, or "May" opening the sentence, is the verb. */
function isVerbMay(word: string, index: number, text: string): boolean {
  if (word.toLowerCase() !== "may") return false;
  return word !== "May" || /^\s*$|[.?!]\s*$/.test(text.slice(0, index));
}

const DAY_MS = 86_400_000;

/**
 * Whether `at` (epoch ms) falls in the period, read in UTC. A named day matches the day itself and the day
 * after: a session dated "8 May" may be stored a little after midnight of a zone behind UTC, and "on 8 May"
 * often means "said by the evening of".
 */
export function inPeriod(period: Period, at: number): boolean {
  return periodTest(period)(at);
}

/** `inPeriod` for one period, its bounds computed once: a period with a year is one range of epoch ms. */
function periodTest(period: Period): (at: number) => boolean {
  const { year, month, day } = period;
  if (year !== undefined) {
    const from = Date.UTC(year, month ?? 0, day ?? 1);
    const to = day !== undefined ? from + 2 * DAY_MS : month !== undefined ? Date.UTC(year, month + 1, 1) : Date.UTC(year + 1, 0, 1);
    return (at) => at >= from && at < to;
  }
  if (day !== undefined) {
    return (at) => {
      const y = new Date(at).getUTCFullYear();
      return [y - 1, y].some((candidate) => {
        const from = Date.UTC(candidate, month!, day);
        return at >= from && at < from + 2 * DAY_MS;
      });
    };
  }
  return (at) => month === undefined || new Date(at).getUTCMonth() === month;
}

const WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday";
const UNITS = "days?|weeks?|weekends?|months?|years?|nights?|mornings?|evenings?|afternoons?|summer|winter|spring|fall|autumn|decades?";
const COUNT = String.raw`\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|few|several|couple(?:\s+of)?`;
/**
 * A time stated in a text: "yesterday", "last Saturday", "next month", "this week", "two years ago", "for 4
 * years", "since 2019", "in June", "on the 5th", a weekday, a month or a year. "May" is matched apart, case
 * sensitively (the verb "may" is common).
 */
const STATED_TIME = new RegExp(
  [
    String.raw`\b(?:yesterday|today|tonight|tomorrow|recently|lately|ago)\b`,
    String.raw`\b(?:last|next|this|past|coming|previous|every)\s+(?:(?:${COUNT})\s+)?(?:${UNITS}|${WEEKDAYS})\b`,
    String.raw`\b(?:${COUNT})\s+(?:${UNITS})\s+(?:ago|back|before|later|earlier)\b`,
    String.raw`\b(?:for|over|since|in|within)\s+(?:the\s+)?(?:(?:past|last)\s+)?(?:${COUNT})\s+(?:${UNITS})\b`,
    String.raw`\b(?:${WEEKDAYS})\b`,
    String.raw`\b(?:january|february|march|april|june|july|august|september|october|november|december)\b`,
    String.raw`\b(?:19|20)\d\d\b`,
    String.raw`\b\d{1,2}(?:st|nd|rd|th)\b`,
  ].join("|"),
  "i",
);
const STATED_MAY = /\bMay\b(?!\s+(?:I|you|we|he|she|they|it|be)\b)/;

/** Whether a text states a time ("…yesterday", "last week", "in May", "two years ago"). */
export function statesTime(text: string): boolean {
  return STATED_TIME.test(text) || STATED_MAY.test(text);
}

/**
 * The factor each candidate turn's scores are scaled by (1 when the question says nothing about time):
 * × (1 + `timeAnswer`) when the question asks for a time and the turn states one, × (1 + `datedTurn`) when the
 * question names a date and the turn was said in it (`occurred_at`). No store read: `statesTime` once per turn
 * per `owner` (the store: turn ids are its own, a turn's content never changes), a lookup after that. A turn not
 * among `passages` (not live, or not from a turn) keeps 1.
 */
export function turnTimeFactor(
  cues: TimeCues,
  passages: ReadonlyMap<number, { content: string; occurred_at: number | null }>,
  weights: { timeAnswer: number; datedTurn: number },
  owner: object = {},
): (turn: number | undefined) => number {
  const asks = cues.asksTime && weights.timeAnswer !== 0;
  const dated = cues.periods.length > 0 && weights.datedTurn !== 0;
  if (!asks && !dated) return () => 1;
  const tests = cues.periods.map(periodTest);
  const memo = new Map<number, number>();
  return (turn) => {
    if (turn === undefined) return 1;
    let factor = memo.get(turn);
    if (factor !== undefined) return factor;
    const p = passages.get(turn);
    factor = 1;
    if (p) {
      if (asks && turnStatesTime(owner, turn, p.content)) factor *= 1 + weights.timeAnswer;
      if (dated && p.occurred_at !== null && tests.some((test) => test(p.occurred_at!))) factor *= 1 + weights.datedTurn;
    }
    memo.set(turn, factor);
    return factor;
  };
}

/** `statesTime` of turns by id, per owner (the store), the most recent CACHED_TURNS. */
const stated = new WeakMap<object, Map<number, boolean>>();
const CACHED_TURNS = 50_000;

function turnStatesTime(owner: object, turn: number, content: string): boolean {
  let cache = stated.get(owner);
  if (!cache) stated.set(owner, (cache = new Map()));
  let value = cache.get(turn);
  if (value === undefined) {
    value = statesTime(content);
    if (cache.size >= CACHED_TURNS) cache.delete(cache.keys().next().value!);
    cache.set(turn, value);
  }
  return value;
}
