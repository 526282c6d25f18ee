import { SpectronValidationError } from "../../errors.js";

/** hnswlib takes labels as unsigned 32-bit integers. */
export const MAX_LABEL = 0xffffffff;

export function checkLabel(label: number): void {
  // hnswlib takes labels as unsigned 32-bit and wraps anything larger silently onto another label.
  if (!Number.isInteger(label) || label < 0 || label > MAX_LABEL) {
    throw new SpectronValidationError("label", `an integer from 0 to ${MAX_LABEL}`, label, "ANN labels are unsigned 32-bit row ids.");
  }
}

export function checkDim(vector: Float32Array, dim: number): void {
  if (vector.length !== dim) {
    throw new SpectronValidationError("vector", `a vector of length ${dim}`, `length ${vector.length}`);
  }
}

export function positiveInt(field: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new SpectronValidationError(field, "a positive integer", value);
  return value;
}
