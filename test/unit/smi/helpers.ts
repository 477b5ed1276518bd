/** Small helpers shared by the SMI parser tests. */
import { expect } from 'chai';
import { parseSmiObject, type SmiParseResult } from '../../../src/smi/parse.js';
import type { SmiObject } from '../../../src/smi/model.js';

export function meta(name = 'demo', namespace = 'shop'): Record<string, unknown> {
  return { name, namespace };
}

/** Parses and asserts the object is accepted with no problem at all. */
export function accepted(raw: unknown): SmiObject {
  const result = parseSmiObject(raw as Record<string, unknown>);
  expect(result.problems.map((p) => p.message)).to.deep.equal([]);
  expect(result.object).to.not.equal(null);
  return result.object as SmiObject;
}

/** Parses and asserts the object is rejected; returns the error messages. */
export function rejected(raw: unknown): string[] {
  const result = parseSmiObject(raw as Record<string, unknown>);
  expect(result.object).to.equal(null);
  const errors = result.problems.filter((p) => p.severity === 'error').map((p) => p.message);
  expect(errors).to.not.deep.equal([]);
  return errors;
}

/** Parses and asserts the object is kept with warnings; returns the warning messages. */
export function warned(raw: unknown): { object: SmiObject; warnings: string[] } {
  const result: SmiParseResult = parseSmiObject(raw as Record<string, unknown>);
  expect(result.problems.filter((p) => p.severity === 'error').map((p) => p.message)).to.deep.equal([]);
  expect(result.object).to.not.equal(null);
  return { object: result.object as SmiObject, warnings: result.problems.map((p) => p.message) };
}
