/**
 * Word lists behind the personal-fact patterns: the nouns and adjectives that say a statement is about family,
 * pets, health, diet or work. They are vocabularies of English, not lists of sentences: a pattern accepts a
 * phrase when its head word is in the list, so "my twin brother", "a rescue greyhound" and "type 2 diabetes"
 * are read by the same rule as "my brother", "a dog" and "diabetes".
 */

const set = (words: string): ReadonlySet<string> => new Set(words.trim().split(/\s+/));

/** Relatives, by the word the user says. Friends, colleagues and neighbours are people, not family. */
export const FAMILY = set(`
  wife husband partner spouse girlfriend boyfriend fiance fiancé fiancee fiancée
  mother mom mum mommy mummy mama father dad daddy papa parents parent
  sister sisters brother brothers sibling siblings twin twins
  son sons daughter daughters kid kids child children baby babies toddler boy boys girl girls
  grandmother grandma granny nan nana grandfather grandpa granddad grandparents grandparent
  grandson grandsons granddaughter granddaughters grandchild grandchildren grandkid grandkids
  aunt aunts auntie uncle uncles cousin cousins niece nieces nephew nephews
  stepmom stepmum stepmother stepdad stepfather stepson stepdaughter stepsister stepbrother
  mother-in-law father-in-law sister-in-law brother-in-law son-in-law daughter-in-law in-laws
`);

/**
 * Words that may sit before a relative or a friend: "my older sister", "my twin brother", "my baby boy", "my best
 * friend Sam", "my old colleague Mei".
 */
export const FAMILY_MODIFIERS = set(`older younger little big elder eldest oldest youngest baby twin step late new ex first second third only best close good old childhood`);

/** People in the user's life who are not family: their facts are kept under their name. */
export const PEOPLE = set(`
  friend friends boss manager colleague coworker co-worker roommate flatmate housemate neighbour neighbor landlord
  landlady teacher coach therapist doctor mentor classmate bestie buddy pal
`);

/** Pets, by species and by common breed. */
export const PETS = set(`
  dog dogs puppy puppies pup pups doggo cat cats kitten kittens kitty hamster hamsters gerbil gerbils
  rabbit rabbits bunny bunnies parrot parrots budgie budgies cockatiel canary bird birds goldfish fish
  turtle turtles tortoise tortoises snake snakes lizard lizards gecko geckos iguana horse horses pony ponies
  ferret ferrets chinchilla chinchillas rat rats mouse mice hedgehog guinea-pig pig pigs goat goats chickens hens
  labrador lab retriever terrier poodle beagle dachshund corgi spaniel collie husky pug bulldog greyhound
  shepherd chihuahua schnauzer doodle labradoodle cockapoo boxer rottweiler whippet lurcher
  tabby siamese persian
`);

/** Chronic conditions (acute ones, "a cold", "a headache", are context). The last word of a phrase decides. */
export const CONDITIONS = set(`
  asthma diabetes arthritis epilepsy migraine migraines adhd add autism dyslexia dyspraxia depression anxiety
  insomnia eczema psoriasis ibs crohn's colitis celiac coeliac cancer hypertension cholesterol pressure
  disease disorder syndrome condition intolerance sensitivity allergies tinnitus apnea apnoea lupus ms
  sclerosis ptsd ocd bipolar fibromyalgia scoliosis endometriosis pcos gout hypothyroidism thyroid
  knee knees back hip hips shoulder ankle pain glaucoma dementia parkinson's alzheimer's hiv anemia anaemia
`);

/** Medicines taken over time: "I'm on blood thinners", "I take insulin". The last word of a phrase decides. */
export const MEDICATIONS = set(`
  medication medications medicine medicines meds pills tablets insulin thinners statins statin antidepressants
  ssris ssri beta-blockers blockers inhibitors steroids inhaler inhalers levothyroxine metformin warfarin
  lithium methotrexate hrt chemo chemotherapy dialysis immunosuppressants anticoagulants
`);

/** Devices lived with: "I have a pacemaker", "I wear hearing aids", "I use a wheelchair". */
export const DEVICES = /\b(?:pacemaker|defibrillator|prosthesis|prosthetic\s+\p{L}+|stoma|wheelchair|cpap(?:\s+machine)?|hearing\s+aids?|insulin\s+pump|cochlear\s+implants?|colostomy\s+bag)$/iu;

/** What a person gives up or keeps off: "I gave up alcohol", "I quit sugar" (food, drink and habits). */
export const CONSUMABLES = set(`
  alcohol booze drinking beer wine spirits caffeine coffee tea soda sugar sweets chocolate carbs bread gluten
  dairy milk cheese eggs meat pork beef chicken fish seafood shellfish nuts smoking cigarettes vaping
  food takeaways
`);

/** Businesses one owns or runs: "I run a small bakery", "I own a coffee shop". The last word decides. */
export const BUSINESSES = set(`
  bakery shop store cafe café restaurant bar pub bistro business company firm agency studio salon clinic
  practice farm vineyard hotel hostel startup start-up gym boutique garage brewery bookshop bookstore
  consultancy charity nursery kennel kennels workshop
`);

/** Lasting conditions whose last word alone would say little ("fever", "fatigue"): matched as phrases. */
export const CONDITION_PHRASES = /\b(?:hay\s*fever|long\s+covid|chronic\s+fatigue|heart\s+murmur|kidney\s+stones|acid\s+reflux|gallstones|sickle\s+cell)$/i;

/** Adjectives of lasting health: "I'm diabetic", "I'm lactose intolerant", "I'm deaf in one ear". */
export const HEALTH_STATES = set(`
  diabetic asthmatic epileptic autistic dyslexic deaf blind colorblind colourblind disabled anemic anaemic
  immunocompromised pregnant intolerant celiac coeliac hypertensive paraplegic quadriplegic
`);

/** Diets as adjectives or nouns: "I'm vegan", "a keto diet". */
export const DIETS = set(`
  vegetarian vegan pescatarian pescetarian flexitarian keto ketogenic paleo carnivore gluten-free dairy-free
  low-carb low-fat low-sugar low-sodium halal kosher plant-based whole-food sugar-free nut-free
`);

/** Marital statuses. */
export const MARITAL = set(`married single divorced engaged widowed separated`);

/**
 * Occupations. A noun is a job when it is listed here or ends in a job-forming suffix (see `isJobNoun`), so
 * that "paramedic" and "software engineer" need no entry of their own but "fan" and "night owl" are not jobs.
 */
export const JOBS = set(`
  nurse doctor surgeon dentist vet veterinarian pharmacist paramedic midwife therapist physio physiotherapist
  teacher lecturer professor tutor student postdoc researcher scientist engineer developer programmer coder
  designer architect lawyer attorney solicitor barrister judge paralegal accountant auditor banker
  analyst consultant manager director executive ceo cto cfo founder entrepreneur freelancer contractor
  chef cook baker butcher barista bartender waiter waitress server cashier clerk receptionist secretary
  assistant administrator admin officer police policeman policewoman firefighter soldier pilot
  driver mechanic electrician plumber carpenter builder painter decorator gardener farmer fisherman
  writer author journalist editor reporter photographer filmmaker actor actress musician singer dancer
  artist illustrator animator producer composer librarian curator social worker counselor counsellor
  psychologist psychiatrist optician optometrist radiographer technician caregiver carer nanny babysitter
  cleaner housekeeper janitor salesman saleswoman salesperson realtor agent broker trader investor
  economist statistician mathematician physicist chemist biologist historian translator interpreter
  coach trainer instructor athlete footballer cyclist priest pastor vicar rabbi imam nun monk
  mayor politician diplomat civil servant ranger guard security courier postman postwoman
  homemaker housewife househusband retiree pensioner intern apprentice trainee volunteer
  cto vp lead supervisor foreman dispatcher operator technologist marketer recruiter stay-at-home
`);

/** Suffixes that form job nouns: "-ist" (dentist), "-ician" (electrician), "-eer" (engineer), "-grapher". */
const JOB_SUFFIX = /(?:ologist|ician|grapher|ist|eer|ant|tor|ster)$/;
/** Words with those endings that are not jobs. */
const NOT_JOBS = set(`
  fan lover person owl bit lot kind sort fast slow fantasy twist list mist wrist cyst gist tourist optimist
  pessimist realist perfectionist minimalist purist tenant servant pageant elephant giant infant plant ant
  monster hamster lobster toaster hipster youngster gangster sister visitor spectator mentor doctorate
  motor factor vector sector
`);

export function isJobNoun(word: string): boolean {
  const w = word.toLowerCase();
  if (NOT_JOBS.has(w)) return false;
  return JOBS.has(w) || JOB_SUFFIX.test(w);
}

/** Languages people say they speak. */
export const LANGUAGES = set(`
  english spanish french german italian portuguese dutch swedish norwegian danish finnish icelandic polish
  czech slovak hungarian romanian bulgarian greek turkish russian ukrainian arabic hebrew persian farsi
  hindi urdu bengali punjabi tamil telugu marathi gujarati mandarin cantonese chinese japanese korean
  vietnamese thai indonesian malay tagalog filipino swahili amharic yoruba zulu afrikaans catalan basque
  galician welsh irish gaelic latin esperanto sign asl bsl
`);

/** Activities done as a pastime, as the verb a user says ("I knit", "I go surfing", "I play tennis"). */
export const HOBBY_VERBS = set(`
  play plays paint draw knit sew crochet quilt surf ski snowboard swim climb boulder dance sing garden
  hike cycle bike skate fish hunt sail row box fence golf jog run practice practise bake brew
  meditate journal sculpt carve whittle skydive dive kayak canoe collect
`);

/** Verbs of changing home. */
export const MOVE_VERBS = String.raw`(?:moved|relocated|emigrated|immigrated|moved\s+back|moved\s+over|moved\s+out)`;

/** Verbs whose progressive names a plan ("I'm moving to Berlin", "I'm starting at Microsoft next month"). */
export const PLAN_PROGRESSIVES = set(`moving relocating starting joining leaving quitting retiring switching changing emigrating transferring`);
