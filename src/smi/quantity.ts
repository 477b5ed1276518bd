/**
 * Kubernetes resource quantities (`500m`, `1`, `1.5`, `2k`, `1Ki`, `1e3`), as used by
 * TrafficSplit v1alpha1 weights. The grammar is Kubernetes' own:
 *
 *   quantity ::= sign? number suffix?      number ::= digits | digits.digits | digits. | .digits
 *   suffix   ::= Ki|Mi|Gi|Ti|Pi|Ei | m|k|M|G|T|P|E | (e|E) sign? digits
 *
 * Values convert to integer milli-units the way Kubernetes' `MilliValue()` does (`1` = 1000,
 * fractions of a milli-unit round up), computed exactly with BigInt.
 */

export type QuantityResult =
  | { readonly ok: true; readonly milli: number }
  | { readonly ok: false; readonly reason: string };

/** Inputs longer than this are not quantities anyone writes; refusing them bounds the work. */
const MAX_QUANTITY_CHARS = 128;

const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|(m|k|M|G|T|P|E))?$/;

const DECIMAL_SUFFIX_EXPONENT: Readonly<Record<string, number>> = { m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX_POWER: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };

/**
 * A non-negative quantity in milli-units, at most `max`. Numbers are read through their decimal
 * form, so YAML `weight: 0.5` and `weight: "500m"` agree.
 */
export function parseQuantityMilli(value: unknown, max: number): QuantityResult {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'is not a finite number' };
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return { ok: false, reason: 'must be a quantity (a number or a string such as "500m")' };
  }
  if (text.length > MAX_QUANTITY_CHARS) return { ok: false, reason: 'is too long to be a quantity' };
  const parts = QUANTITY.exec(text);
  if (parts === null) return { ok: false, reason: 'is not a valid quantity (examples: 1, 500m, 1.5, 2k)' };
  const [, sign, number = '', binarySuffix, exponent, decimalSuffix] = parts;

  const [whole = '', fraction = ''] = number.split('.');
  // Significant digits with their decimal exponent: 12.50 → 125 × 10^-1.
  let digits = (whole + fraction).replace(/^0+/, '');
  let exponent10 = -fraction.length;
  const trailingZeros = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailingZeros);
  exponent10 += trailingZeros;
  if (digits === '') return { ok: true, milli: 0 };
  if (sign === '-') return { ok: false, reason: 'must not be negative' };

  exponent10 += 3; // milli-units
  if (decimalSuffix !== undefined) exponent10 += DECIMAL_SUFFIX_EXPONENT[decimalSuffix] ?? 0;
  if (exponent !== undefined) exponent10 += Number(exponent);
  const binaryPower = binarySuffix === undefined ? 0 : BINARY_SUFFIX_POWER[binarySuffix] ?? 0;

  // digits × 10^exponent10 × 1024^binaryPower lies in [10^(D-1+e+3b), 10^(D+e+4b)): decide the
  // out-of-range cases from the exponents alone, so no BigInt power below is ever large.
  const tooLarge = `is too large (at most ${max / 1000} units)`;
  if (digits.length - 1 + exponent10 + 3 * binaryPower >= String(Math.trunc(max)).length) return { ok: false, reason: tooLarge };
  if (digits.length + exponent10 + 4 * binaryPower < 0) return { ok: true, milli: 1 }; // under a milli-unit rounds up

  let numerator = BigInt(digits) * (1n << BigInt(10 * binaryPower));
  let denominator = 1n;
  if (exponent10 >= 0) numerator *= 10n ** BigInt(exponent10);
  else denominator = 10n ** BigInt(-exponent10);
  const milli = (numerator + denominator - 1n) / denominator;
  if (milli > BigInt(Math.trunc(max))) return { ok: false, reason: tooLarge };
  return { ok: true, milli: Number(milli) };
}
