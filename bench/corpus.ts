// A synthetic but realistic memory workload for the scale section: many users, each with a profile (name,
// plan, city, employer, occupation, likes) that changes now and then, everyday chit-chat, and Context-wide
// team/product notes in scope {} so that a Context-wide query has thousands of visible records (and takes
// the ANN path). Seeded: the same size gives the same corpus on every run.

import { pick, prng } from "./stats.js";

export interface CorpusTurn {
  content: string;
  scope: Record<string, string>;
}

const FIRST = "Ana Ben Chloe Daniel Elif Farah Gabriel Hana Ivan Julia Kenji Lena Mateo Nadia Omar Priya Quentin Rosa Sven Tara Umar Vera Wen Ximena Yusuf Zoe Aiko Bruno Carmen Dmitri Esther Felix Greta Hugo Ingrid Jonas Kofi Lucia Marco Nina".split(" ");
const LAST = "Costa Novak Haddad Schmidt Tanaka Okafor Silva Moreau Kowalski Jensen Rossi Nguyen Patel Lindqvist Ortega Duarte Weber Kim Yilmaz Fischer".split(" ");
export const PLANS = ["Free", "Starter", "Pro", "Team", "Business", "Enterprise"];
export const CITIES = "Lisbon Porto Berlin Munich Paris Lyon Madrid Seville Rome Milan Vienna Prague Warsaw Oslo Stockholm Helsinki Dublin Edinburgh Amsterdam Brussels Zurich Geneva Athens Istanbul Cairo Nairobi Lagos Toronto Montreal Boston Chicago Denver Austin Seattle Vancouver Mexico Lima Santiago Tokyo Osaka Seoul Singapore Sydney Melbourne Auckland Mumbai Bangalore Dubai".split(" ");
const PREFIX = "Northwind Globex Initech Umbrella Stark Wayne Acme Hooli Vandelay Soylent Cyberdyne Tyrell Wonka Aperture Massive Blue Red Silver Bright Polar".split(" ");
const SUFFIX = "Labs Systems Logistics Health Bank Foods Media Robotics Energy Software".split(" ");
const JOBS = "nurse teacher data analyst software engineer designer product manager accountant pharmacist architect chef electrician lawyer journalist researcher photographer".split(" ");
const LIKES = "hiking jazz sourdough baking chess climbing sailing gardening salsa dancing board games sci-fi novels espresso trail running pottery birdwatching karaoke cycling yoga podcasts street food vinyl records surfing knitting astronomy origami skiing".split(" ");
const ACTIVITIES = "hiking camping cycling painting fishing kayaking baking swimming running sketching".split(" ");
const RELATIVES = "sister brother mother father cousin aunt uncle partner daughter son".split(" ");
const FOODS = "ramen tacos pho falafel sushi pizza curry dumplings paella a burrito".split(" ");
const DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(" ");
const TOPICS = "volcanoes medieval history jazz legends deep sea life stoic philosophy the Roman empire chess openings urban planning bird migration quantum computing".split(" ");
const PROJECTS = "Atlas Beacon Comet Delta Ember Falcon Granite Harbor Iris Juniper".split(" ");
const TEAMS = "design platform billing mobile data security support growth infrastructure research".split(" ");
const FEATURES = "SSO audit logs usage alerts custom roles data export webhooks dark mode offline sync bulk import two-factor login".split(" ");
const MONTHS = "January February March April May June July August September October November December".split(" ");

export const employerName = (r: () => number) => `${pick(r, PREFIX)} ${pick(r, SUFFIX)}`;
const personName = (r: () => number) => `${pick(r, FIRST)} ${pick(r, LAST)}`;
const num = (r: () => number, n: number) => 1 + Math.floor(r() * n);

/** Statements about the user's profile; the index is the order a new user states them in. */
const PROFILE: ((r: () => number) => string)[] = [
  (r) => `My name is ${personName(r)}.`,
  (r) => `I'm on the ${pick(r, PLANS)} plan.`,
  (r) => `I live in ${pick(r, CITIES)}.`,
  (r) => `I work at ${employerName(r)}.`,
  (r) => `I work as a ${pick(r, JOBS)}.`,
  (r) => `I love ${pick(r, LIKES)}.`,
];

/** Later changes of a profile: these supersede earlier values (plan, city, employer) or accumulate (likes). */
const CHANGES: ((r: () => number) => string)[] = [
  (r) => `We upgraded to the ${pick(r, PLANS)} plan.`,
  (r) => `I moved to ${pick(r, CITIES)} last month.`,
  (r) => `I just started a new job at ${employerName(r)}.`,
  (r) => `I really enjoy ${pick(r, LIKES)}.`,
  (r) => `I hate ${pick(r, FOODS)}.`,
];

const CHITCHAT: ((r: () => number) => string)[] = [
  (r) => `I spent the weekend ${pick(r, ACTIVITIES)} with my ${pick(r, RELATIVES)} near ${pick(r, CITIES)}.`,
  (r) => `My ${pick(r, RELATIVES)} ${pick(r, FIRST)} is visiting from ${pick(r, CITIES)} next ${pick(r, DAYS)}.`,
  (r) => `I had ${pick(r, FOODS)} for lunch with ${pick(r, FIRST)} from ${employerName(r)}.`,
  (r) => `Our ${pick(r, PROJECTS)} demo went well on ${pick(r, DAYS)}, ticket ${num(r, 9000)} is closed.`,
  (r) => `I'm reading a book about ${pick(r, TOPICS)} and I'm on chapter ${num(r, 30)}.`,
  (r) => `I need to renew my passport before the trip to ${pick(r, CITIES)} in ${pick(r, MONTHS)}.`,
  (r) => `My flight to ${pick(r, CITIES)} on ${pick(r, DAYS)} was delayed by ${num(r, 9)} hours.`,
  (r) => `I ran ${num(r, 30)} kilometres this week and my knee feels fine.`,
];

/** Context-wide notes (scope {}): what every user of the Context may see. */
const GLOBAL: ((r: () => number) => string)[] = [
  (r) => `The ${pick(r, TEAMS)} team moved the weekly sync to ${pick(r, DAYS)} at ${num(r, 12)} o'clock.`,
  (r) => `Release ${num(r, 9)}.${num(r, 40)}.${num(r, 20)} added ${pick(r, FEATURES)} for ${pick(r, PLANS)} customers.`,
  (r) => `The ${pick(r, CITIES)} office is closed on ${pick(r, MONTHS)} ${num(r, 28)} for maintenance.`,
  (r) => `Support hours in ${pick(r, CITIES)} are now ${num(r, 10)} to ${12 + num(r, 8)} on weekdays.`,
  (r) => `Incident ${num(r, 99999)} affected ${pick(r, FEATURES)} in ${pick(r, CITIES)} for ${num(r, 90)} minutes.`,
  (r) => `Project ${pick(r, PROJECTS)} is owned by the ${pick(r, TEAMS)} team until ${pick(r, MONTHS)}.`,
];

/** Questions a Context-wide caller asks (scope {}), in the vocabulary of the notes above. */
export function globalQuestion(r: () => number): string {
  return pick(r, [
    () => `When does the ${pick(r, TEAMS)} team meet for the weekly sync?`,
    () => `Which release added ${pick(r, FEATURES)}?`,
    () => `When is the ${pick(r, CITIES)} office closed?`,
    () => `What are the support hours in ${pick(r, CITIES)}?`,
    () => `Which incidents affected ${pick(r, FEATURES)}?`,
    () => `Who owns project ${pick(r, PROJECTS)}?`,
  ])();
}

/**
 * Document `i`: a team handbook page of six short paragraphs (~1,500 characters, two chunks), added through
 * `memory.knowledge.add` in scope {} so that Context-wide recall retrieves chunks as well as records.
 */
export function corpusDocument(seed: number, i: number): { title: string; text: string } {
  const r = prng(seed * 7_000_003 + i);
  const team = pick(r, TEAMS);
  const city = pick(r, CITIES);
  const paragraphs = [
    `The ${team} team owns ${pick(r, FEATURES)} and project ${pick(r, PROJECTS)}. Its on-call rotation changes every ${pick(r, DAYS)}, and escalations go to the ${city} office.`,
    `Expense reports for travel to ${pick(r, CITIES)} must be filed within ${num(r, 30)} days. Hotel costs above ${20 * num(r, 20)} euros a night need approval from the ${team} lead.`,
    `Customers on the ${pick(r, PLANS)} plan get ${pick(r, FEATURES)} and an answer within ${num(r, 48)} hours. Customers on the ${pick(r, PLANS)} plan are answered on weekdays only.`,
    `Version ${num(r, 9)}.${num(r, 40)} fixed ${num(r, 50)} bugs in ${pick(r, FEATURES)}. Version ${num(r, 9)}.${num(r, 40)} made ${pick(r, FEATURES)} faster for teams in ${pick(r, CITIES)}.`,
    `New members of the ${team} team spend their first week with ${pick(r, FIRST)} ${pick(r, LAST)}, who runs the onboarding sessions on ${pick(r, DAYS)} mornings.`,
    `The ${team} team reviews its goals every ${pick(r, MONTHS)} and publishes a summary on the wiki page ${pick(r, PROJECTS).toLowerCase()}-${num(r, 999)}.`,
  ];
  return { title: `${team[0]!.toUpperCase()}${team.slice(1)} team handbook, ${city} edition ${i}`, text: paragraphs.join("\n\n") };
}

/** Three turns in ten are Context-wide notes. */
export const GLOBAL_SHARE = 0.3;

/**
 * Turn `i` of the corpus of `size` turns. Users are visited round-robin, so every user's profile comes first
 * and changes and chit-chat follow: about 20 user turns per user at any size. Stateless, so that any turn can
 * be generated on its own (the ingest samples append turns past the end of the bulk-loaded corpus).
 */
export function corpusTurn(seed: number, size: number, i: number): CorpusTurn {
  const r = prng(seed * 1_000_003 + i);
  if (i % 10 < 3) return { content: pick(r, GLOBAL)(r), scope: {} };
  const j = Math.floor(i / 10) * 7 + (i % 10) - 3; // index among user turns
  const users = userCount(size);
  const scope = { user: `u${j % users}` };
  const step = Math.floor(j / users);
  if (step < PROFILE.length) return { content: PROFILE[step]!(r), scope };
  return { content: r() < 0.15 ? pick(r, CHANGES)(r) : pick(r, CHITCHAT)(r), scope };
}

export function userCount(size: number): number {
  return Math.max(20, Math.round((size * (1 - GLOBAL_SHARE)) / 20));
}
