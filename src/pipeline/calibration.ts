// Trust calibration from supersession lineage (spec: "repeated decision_trace.superseded lineage as a negative
// trust signal on the original source"). A source is who asserted a record: one principal's (or speaker's)
// turns, one document, or a model-derived kind. When a record is superseded by a record from another source,
// its source was corrected; a source corrected again and again is trusted less. A source changing its own
// facts (a user who moves city) is not a correction and costs nothing.

/** Corrections are weighed against this many assertions more than the source made, so one slip barely counts. */
const PRIOR = 4;
/** Trust never falls below this: calibration demotes a source, it does not silence it. */
const FLOOR = 0.2;

/** A source's trust: 1 − corrected / (asserted + PRIOR), at least FLOOR. Its counts live in store/sources.ts. */
export function calibratedTrust(asserted: number, corrected: number): number {
  return Math.max(FLOOR, 1 - corrected / (asserted + PRIOR));
}

/** The source key of a turn: its principal (or "-") and who spoke — the speaker's name, else the role. */
export function turnSourceKey(turn: { principal: string | null; speaker: string | null; role: string }): string {
  return `turn:${turn.principal ?? "-"}:${turn.speaker ?? turn.role}`;
}
