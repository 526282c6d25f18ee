// The development part of the extraction set alone: its scores and every failure, for working on the rules.
// The held-out part is run by `npm run bench -- --only=extraction` only, and only its aggregate is shown there.
//   npx tsx bench/extraction-dev.ts            scores and failures of the dev items
import { runExtraction } from "./extraction.js";

const report = await runExtraction();
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const dev = report.scores.dev;
console.log(`dev n=${dev.n} category+kind ${pct(dev.categoryKind)} attribute ${pct(dev.attribute)} subject ${pct(dev.subject)} value ${pct(dev.value)} outcome ${pct(dev.outcome)}`);
for (const f of report.devFailures) {
  const bad = Object.entries(f.ok).filter(([, ok]) => !ok).map(([k]) => k).join(",");
  const e = f.expected;
  const g = f.got;
  console.log(`\n${f.id} [${bad}] ${f.before.length ? `(after ${JSON.stringify(f.before)}) ` : ""}${JSON.stringify(f.sentence)}`);
  console.log(`  want ${e.kind}/${e.category} ${e.subject}.${e.attribute}=${JSON.stringify(e.value)} ${e.outcome}`);
  console.log(`  got  ${g.kind}/${g.category} ${g.subject}.${g.attribute}=${JSON.stringify(g.value)} ${g.outcome} (${g.records} records) ${JSON.stringify(g.text)}`);
}
