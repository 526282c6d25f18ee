// Paraphrase groups for the tier-2 (semantic cache) workloads: each group asks one thing several ways. The
// first paraphrase is the canonical question; the others are how people actually re-ask it. Topics follow the
// facts the synthetic corpus states (bench/corpus.ts), so that tier 3 finds records and answers get cached.
// `changes` is a user turn that changes the group's answer, used to check that cached answers are evicted.
// Questions that ask for another kind of answer ("Who did I have lunch with?" beside "What did I have for
// lunch?") are not paraphrases: they are near misses, in bench/near-misses.ts.

export interface ParaphraseGroup {
  id: string;
  topic: "name" | "plan" | "location" | "employer" | "occupation" | "likes" | "dislikes" | "context";
  paraphrases: string[];
  /** A turn that changes this group's answer (a superseding or new fact), when there is an obvious one. */
  changes?: (n: number) => string;
}

const CITIES = ["Lisbon", "Oslo", "Seoul", "Denver", "Nairobi", "Vienna"];
const PLANS = ["Starter", "Team", "Business", "Enterprise", "Pro"];
const EMPLOYERS = ["Globex Media", "Initech Bank", "Hooli Robotics", "Acme Energy", "Polar Foods"];

export const PARAPHRASE_GROUPS: ParaphraseGroup[] = [
  { id: "name", topic: "name", paraphrases: ["What is my name?", "What's my name?", "Do you remember my name?", "What am I called?", "Tell me my name"] },
  { id: "full-name", topic: "name", paraphrases: ["What is my full name?", "Which full name did I give you?", "What full name am I registered under?"] },
  {
    id: "plan",
    topic: "plan",
    paraphrases: ["Which plan am I on?", "What plan am I on?", "Which plan am I on right now?", "What is my current plan?", "Which subscription plan do I have?"],
    changes: (n) => `We upgraded to the ${PLANS[n % PLANS.length]} plan.`,
  },
  { id: "plan-tier", topic: "plan", paraphrases: ["What tier is my subscription?", "Which subscription tier am I on?", "What subscription tier do I have?"] },
  {
    id: "location",
    topic: "location",
    paraphrases: ["Where do I live?", "Where do I live now?", "In which city do I live?", "Which city do I live in?", "What city am I based in?"],
    changes: (n) => `I moved to ${CITIES[n % CITIES.length]} last month.`,
  },
  { id: "hometown", topic: "location", paraphrases: ["What is my home city?", "What's my home city?", "Which city is my home?", "What is my hometown?"] },
  {
    id: "employer",
    topic: "employer",
    paraphrases: ["Where do I work?", "Where do I work now?", "Which company do I work for?", "Who is my employer?", "What company am I working at?"],
    changes: (n) => `I work at ${EMPLOYERS[n % EMPLOYERS.length]} now.`,
  },
  { id: "employer-name", topic: "employer", paraphrases: ["What is the name of my employer?", "What's the name of the company I work for?", "Name my employer"] },
  { id: "occupation", topic: "occupation", paraphrases: ["What is my job?", "What's my job?", "What do I do for a living?", "What is my profession?", "What job do I have?"] },
  { id: "occupation-role", topic: "occupation", paraphrases: ["What is my role at work?", "What's my role at work?", "Which role do I have at work?"] },
  {
    id: "likes",
    topic: "likes",
    paraphrases: ["What do I like?", "What things do I like?", "What do I love?", "What are my hobbies?", "What do I enjoy?"],
    changes: (n) => `I really enjoy ${["pottery", "surfing", "chess", "karaoke"][n % 4]}.`,
  },
  { id: "favourite", topic: "likes", paraphrases: ["What is my favourite hobby?", "What's my favorite hobby?", "Which hobby is my favourite?"] },
  { id: "dislikes", topic: "dislikes", paraphrases: ["What do I hate?", "What do I dislike?", "What things do I hate?", "Which food do I hate?"] },
  { id: "weekend", topic: "context", paraphrases: ["What did I do last weekend?", "What did I do on the weekend?", "How did I spend the weekend?", "What did I get up to at the weekend?"] },
  { id: "visitor", topic: "context", paraphrases: ["Who is visiting me?", "Who is coming to visit me?", "Which relative is visiting me?", "Who is visiting next week?"] },
  { id: "lunch", topic: "context", paraphrases: ["What did I have for lunch?", "What did I eat for lunch?", "What was my lunch?"] },
  { id: "demo", topic: "context", paraphrases: ["How did our demo go?", "How did the demo go?", "How was our project demo?"] },
  { id: "book", topic: "context", paraphrases: ["What book am I reading?", "Which book am I reading?", "What is the book I'm reading about?", "What am I reading at the moment?"] },
  { id: "passport", topic: "context", paraphrases: ["When do I need to renew my passport?", "When must I renew my passport?", "Before which trip must I renew my passport?"] },
  { id: "flight", topic: "context", paraphrases: ["How long was my flight delayed?", "How long was my flight late?", "By how many hours was my flight delayed?"] },
  { id: "running", topic: "context", paraphrases: ["How far did I run this week?", "How many kilometres did I run this week?", "How much did I run this week?"] },
  { id: "trip", topic: "context", paraphrases: ["Where is my next trip?", "Where am I travelling next?", "Which city is my next trip to?", "Where is my upcoming trip?"] },
];

/** Every paraphrase with its group index, for similarity statistics. */
export function allParaphrases(): { group: number; text: string }[] {
  return PARAPHRASE_GROUPS.flatMap((g, group) => g.paraphrases.map((text) => ({ group, text })));
}
