/** Character classes of RFC 9110 §5.6 / RFC 9112, as lookup tables over Latin-1 codes. */

function table(predicate: (code: number) => boolean): Uint8Array {
  const result = new Uint8Array(256);
  for (let code = 0; code < 256; code++) result[code] = predicate(code) ? 1 : 0;
  return result;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** `tchar`: the characters of a token (method, header name, transfer coding). */
export const TOKEN = table((code) =>
  (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) ||
  (code < 0x80 && TCHAR_SYMBOLS.includes(String.fromCharCode(code))));

/** `field-vchar / SP / HTAB`: what a header value may contain (obs-text included, CTLs excluded). */
export const FIELD_VALUE = table((code) => code === 0x09 || (code >= 0x20 && code !== 0x7f));

/** Visible ASCII: what a request-target may contain. */
export const TARGET = table((code) => code > 0x20 && code < 0x7f);

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (TOKEN[text.charCodeAt(i)] !== 1) return false;
  return true;
}
