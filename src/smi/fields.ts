/**
 * Typed readers for the fields of a raw object. Each reader checks one value, records a located
 * message (`spec.backends[1].weight: must be …, got "abc"`) when it is wrong, and returns
 * `undefined` so the caller can carry on and report every problem of an object in one pass.
 */

export type Fields = Readonly<Record<string, unknown>>;

/** Messages found while reading one object; any error makes the object invalid. */
export class FieldIssues {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  error(path: string, message: string): undefined {
    this.errors.push(`${path}: ${message}`);
    return undefined;
  }

  warning(path: string, message: string): void {
    this.warnings.push(`${path}: ${message}`);
  }
}

const MAX_SHOWN_CHARS = 40;

/** A short, safe rendering of a value for a message: strings quoted and cut, others by type. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value;
    return JSON.stringify(cut);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function has(fields: Fields, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(fields, key) && fields[key] !== undefined && fields[key] !== null;
}

function field(fields: Fields, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
}

/** A mapping field; absent (or null) reports `required` when asked, else gives undefined. */
export function readMapping(issues: FieldIssues, fields: Fields, key: string, path: string, required: boolean): Fields | undefined {
  const at = join(path, key);
  const value = field(fields, key);
  if (value === undefined || value === null) return required ? issues.error(at, 'required') : undefined;
  if (!isFields(value)) return issues.error(at, `must be a mapping, got ${describe(value)}`);
  return value;
}

export function readList(issues: FieldIssues, fields: Fields, key: string, path: string, required: boolean): readonly unknown[] | undefined {
  const at = join(path, key);
  const value = field(fields, key);
  if (value === undefined || value === null) return required ? issues.error(at, 'required') : undefined;
  if (!Array.isArray(value)) return issues.error(at, `must be a list, got ${describe(value)}`);
  return value;
}

/** A non-empty string field. */
export function readString(issues: FieldIssues, fields: Fields, key: string, path: string, required: boolean): string | undefined {
  const at = join(path, key);
  const value = field(fields, key);
  if (value === undefined || value === null) return required ? issues.error(at, 'required') : undefined;
  if (typeof value !== 'string') return issues.error(at, `must be a string, got ${describe(value)}`);
  if (value === '') return required ? issues.error(at, 'must not be empty') : undefined;
  return value;
}

/** A string field that must be one of `allowed`. */
export function readEnum<T extends string>(
  issues: FieldIssues, fields: Fields, key: string, path: string, allowed: readonly T[],
): T | undefined {
  const value = readString(issues, fields, key, path, true);
  if (value === undefined) return undefined;
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) return issues.error(join(path, key), `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
  return found;
}

/** A mapping item of a list, at `path[index]`. */
export function readItem(issues: FieldIssues, value: unknown, at: string): Fields | undefined {
  if (!isFields(value)) return issues.error(at, `must be a mapping, got ${describe(value)}`);
  return value;
}

/** A whole number from `min` to `max`. */
export function readWhole(issues: FieldIssues, value: unknown, at: string, min: number, max: number): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return issues.error(at, `must be a whole number from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** A port number item of a list, at `path[index]`. */
export function readPort(issues: FieldIssues, value: unknown, at: string): number | undefined {
  if (!isPort(value)) return issues.error(at, `must be a port number (1-65535), got ${describe(value)}`);
  return value;
}

/** A regular expression source; checked with the JavaScript engine the data plane uses. */
export function readRegex(issues: FieldIssues, value: unknown, at: string): string | undefined {
  if (typeof value !== 'string') return issues.error(at, `must be a regular expression string, got ${describe(value)}`);
  const invalid = regexError(value);
  if (invalid !== null) return issues.error(at, `invalid regular expression ${describe(value)}: ${invalid}`);
  return value;
}

/** Why `source` is not a valid regular expression, or null when it is. */
export function regexError(source: string): string | null {
  try {
    new RegExp(source);
    return null;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // V8 says "Invalid regular expression: /<source>/: <reason>"; keep the reason only.
    return message.slice(message.lastIndexOf(': ') + 2);
  }
}
