/**
 * Just enough of the Caddyfile grammar CoreDNS uses to find the server blocks of a Corefile:
 * tokens split on whitespace, `"…"` quoted tokens (with `\"`), `#` comments at a token start,
 * and `{` / `}` standalone tokens as block delimiters.
 */
export interface Token {
  readonly text: string;
  /** 1-based line where the token starts. */
  readonly line: number;
  readonly quoted: boolean;
}

export class CorefileSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(`Corefile line ${line}: ${message}`);
    this.name = 'CorefileSyntaxError';
  }
}

/**
 * Whitespace as CoreDNS's lexer sees it (Go's unicode.IsSpace; JavaScript's \s adds the BOM).
 * One predicate for both loops below: a character one skipped and the other did not would
 * never be consumed.
 */
const isSpace = (ch: string): boolean => ch !== '\uFEFF' && /[\s\u0085]/.test(ch);

export function tokenize(corefile: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  // CoreDNS's lexer discards a leading byte order mark.
  let i = corefile.startsWith('\uFEFF') ? 1 : 0;
  while (i < corefile.length) {
    const ch = corefile[i] as string;
    if (ch === '\n') {
      line++;
      i++;
    } else if (isSpace(ch)) {
      i++;
    } else if (ch === '#') {
      while (i < corefile.length && corefile[i] !== '\n') i++;
    } else if (ch === '"') {
      const start = line;
      let text = '';
      i++;
      while (i < corefile.length && corefile[i] !== '"') {
        if (corefile[i] === '\\' && corefile[i + 1] === '"') i++;
        if (corefile[i] === '\n') line++;
        text += corefile[i];
        i++;
      }
      if (i >= corefile.length) throw new CorefileSyntaxError('unterminated quoted string', start);
      i++;
      tokens.push({ text, line: start, quoted: true });
    } else {
      let text = '';
      while (i < corefile.length && !isSpace(corefile[i] as string)) text += corefile[i++];
      tokens.push({ text, line, quoted: false });
    }
  }
  return tokens;
}

export interface ServerBlock {
  /** The server keys as written, commas removed (`.:53`, `dns://example.org:53`). */
  readonly keys: readonly string[];
  readonly line: number;
  /** The line of the block's opening `{`. */
  readonly openLine: number;
  /** The block's directives (the first token of each of its lines, nested blocks skipped), with their arguments on that line. */
  readonly directives: readonly Directive[];
}

export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  readonly line: number;
}

const isOpen = (t: Token): boolean => !t.quoted && t.text === '{';
const isClose = (t: Token): boolean => !t.quoted && t.text === '}';

/**
 * The server blocks at the top level of a Corefile (snippets `(name) {…}` and top-level
 * `import` lines are skipped). Throws CorefileSyntaxError for unbalanced braces or a server block
 * without braces, because appending a block to such a file would change its meaning.
 */
export function serverBlocks(corefile: string): ServerBlock[] {
  const tokens = tokenize(corefile);
  const blocks: ServerBlock[] = [];
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i] as Token;
    if (isClose(first)) throw new CorefileSyntaxError("'}' without a matching '{'", first.line);
    if (!first.quoted && first.text === 'import') {
      i++;
      while (i < tokens.length && (tokens[i] as Token).line === first.line) i++;
      continue;
    }
    const keys: string[] = [];
    let previous: Token | undefined;
    while (i < tokens.length && !isOpen(tokens[i] as Token)) {
      const token = tokens[i] as Token;
      if (isClose(token)) throw new CorefileSyntaxError("'}' without a matching '{'", token.line);
      if (previous && token.line !== previous.line && !previous.text.endsWith(',')) {
        throw new CorefileSyntaxError(`server block "${keys.join(' ')}" has no braces`, previous.line);
      }
      for (const key of token.text.split(',')) if (key !== '') keys.push(key);
      previous = token;
      i++;
    }
    if (i >= tokens.length) throw new CorefileSyntaxError(`server block "${keys.join(' ')}" has no braces`, first.line);
    if (keys.length === 0) throw new CorefileSyntaxError("'{' without server keys", (tokens[i] as Token).line);
    const openLine = (tokens[i] as Token).line;
    const directives = directivesOf(tokens, i);
    i = skipBlock(tokens, i);
    if (!(keys[0] as string).startsWith('(')) blocks.push({ keys, line: first.line, openLine, directives });
  }
  return blocks;
}

/** The directives directly inside the block opened at `open` (well formed: skipBlock checks). */
function directivesOf(tokens: readonly Token[], open: number): Directive[] {
  const directives: Directive[] = [];
  let depth = 0;
  let current: { name: string; args: string[]; line: number } | null = null;
  for (let i = open; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (isOpen(token)) depth++;
    else if (isClose(token) && --depth === 0) break;
    else if (depth === 1 && current !== null && token.line === current.line) current.args.push(token.text);
    else if (depth === 1) {
      current = { name: token.text, args: [], line: token.line };
      directives.push(current);
    }
  }
  return directives;
}

/** From the index of a `{`, the index after its matching `}`. */
function skipBlock(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (isOpen(token)) depth++;
    else if (isClose(token) && --depth === 0) return i + 1;
  }
  throw new CorefileSyntaxError("'{' is never closed", (tokens[open] as Token).line);
}

/** The DNS zone a server key serves: `dns://Example.org.:53` → `example.org`, `.:53` → ``. */
export function zoneOfKey(key: string): string {
  return key
    .replace(/^[a-z0-9+.-]+:\/\//i, '')
    .replace(/:\d*$/, '')
    .replace(/\.$/, '')
    .toLowerCase();
}
