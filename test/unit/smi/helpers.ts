/** Small helpers shared by the SMI parser tests. */
import { expect } from 'chai';
import { parseSmiObject, type SmiParseResult } from '../../../src/smi/parse.js';
import type { SmiObject } from '../../../src/smi/model.js';

export function meta(name = 'demo', namespace = 'shop'): Record<string, unknown> {
  return { name, namespace };
}

/** The helpers read objects as from a file: strictly by their apiVersion. */
export const FILE = { file: 'smi.yaml', line: 1 };

/** Parses as from a file; the object comes back without its `source`, so tests compare the model. */
function parseFromFile(raw: unknown): SmiParseResult {
  const result = parseSmiObject(raw as Record<string, unknown>, FILE);
  if (result.object === null) return result;
  const { source: _source, ...object } = result.object;
  return { ...result, object: object as SmiObject };
}

/** Parses and asserts the object is accepted with no problem at all. */
export function accepted(raw: unknown): SmiObject {
  const result = parseFromFile(raw);
  expect(result.problems.map((p) => p.message)).to.deep.equal([]);
  expect(result.object).to.not.equal(null);
  return result.object as SmiObject;
}

/** Parses and asserts the object is rejected; returns the error messages. */
export function rejected(raw: unknown): string[] {
  const result = parseFromFile(raw);
  expect(result.object).to.equal(null);
  const errors = result.problems.filter((p) => p.severity === 'error').map((p) => p.message);
  expect(errors).to.not.deep.equal([]);
  return errors;
}

/** Parses and asserts the object is kept with warnings; returns the warning messages. */
export function warned(raw: unknown): { object: SmiObject; warnings: string[] } {
  const result = parseFromFile(raw);
  expect(result.problems.filter((p) => p.severity === 'error').map((p) => p.message)).to.deep.equal([]);
  expect(result.object).to.not.equal(null);
  return { object: result.object as SmiObject, warnings: result.problems.map((p) => p.message) };
}
