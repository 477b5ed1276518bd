/**
 * Test helper: an independent structural reader of Corefiles (not the lexer under test), a
 * rewrite-rule simulator, and a seeded generator of Corefile edits.
 */

/** A directive or server block: `name args… [{ children }]`. */
export interface Node {
  readonly words: readonly string[];
  readonly line: number;
  readonly children: readonly Node[] | null;
}

interface Word {
  readonly text: string;
  readonly line: number;
  /** First word on its line. */
  readonly lineStart: boolean;
  readonly brace: boolean;
}

function words(text: string): Word[] {
  const out: Word[] = [];
  let line = 1;
  let lineStart = true;
  const re = /"(?:[^"\\]|\\.)*"|#[^\n]*|\r?\n|[ \t\r]+|[^\s]+/g;
  for (const m of text.matchAll(re)) {
    const t = m[0];
    if (t.endsWith('\n')) {
      line++;
      lineStart = true;
    } else if (/^[ \t\r]+$/.test(t) || (t.startsWith('#') && lineStartOrSpace(text, m.index))) {
      continue;
    } else {
      out.push({ text: t, line, lineStart, brace: t === '{' || t === '}' });
      lineStart = false;
      line += (t.match(/\n/g) ?? []).length;
    }
  }
  return out;
}

function lineStartOrSpace(text: string, index: number): boolean {
  return index === 0 || /\s/.test(text[index - 1] as string);
}

/**
 * Parses the whole Corefile into server blocks (or throws with the line): braces balanced,
 * every block opened at the end of a line of words, every directive on its own line.
 */
export function parseStructure(text: string): Node[] {
  const ws = words(text);
  let i = 0;
  const parseLevel = (top: boolean): Node[] => {
    const nodes: Node[] = [];
    while (i < ws.length) {
      const first = ws[i] as Word;
      if (first.text === '}') {
        if (top) throw new Error(`line ${first.line}: unmatched }`);
        i++;
        return nodes;
      }
      if (first.text === '{') throw new Error(`line ${first.line}: { without a directive`);
      const lineWords: string[] = [];
      while (i < ws.length && !(ws[i] as Word).brace && (lineWords.length === 0 || !(ws[i] as Word).lineStart || (top && lineWords[lineWords.length - 1]?.endsWith(',')))) {
        lineWords.push((ws[i] as Word).text);
        i++;
      }
      const next = ws[i];
      if (next && next.text === '{' && !(top && lineWords[0] === 'import')) {
        i++;
        const children = parseLevel(false);
        nodes.push({ words: lineWords, line: first.line, children });
      } else {
        if (top && lineWords[0] !== 'import') throw new Error(`line ${first.line}: server block "${lineWords.join(' ')}" without braces`);
        nodes.push({ words: lineWords, line: first.line, children: null });
      }
    }
    if (!top) throw new Error('unclosed {');
    return nodes;
  };
  return parseLevel(true);
}

/** Every node under `nodes`, depth first. */
export function* walk(nodes: readonly Node[]): Generator<Node> {
  for (const n of nodes) {
    yield n;
    if (n.children) yield* walk(n.children);
  }
}

export interface RewriteRule {
  readonly name: RegExp;
  readonly nameTo: string;
  readonly answer: RegExp;
  readonly answerTo: string;
}

/** The `rewrite stop { name regex … answer name … }` rules of a server block, in order. */
export function rewriteRules(block: Node): RewriteRule[] {
  const rules: RewriteRule[] = [];
  for (const d of block.children ?? []) {
    if (d.words[0] !== 'rewrite') continue;
    const [nameLine, answerLine] = d.children ?? [];
    if (!nameLine || !answerLine || d.words[1] !== 'stop') throw new Error(`line ${d.line}: unexpected rewrite form`);
    const [n0, n1, nFrom, nTo] = nameLine.words;
    const [a0, a1, aFrom, aTo] = answerLine.words;
    if (n0 !== 'name' || n1 !== 'regex' || a0 !== 'answer' || a1 !== 'name' || !nFrom || !nTo || !aFrom || !aTo) {
      throw new Error(`line ${d.line}: unexpected rewrite rule`);
    }
    rules.push({ name: new RegExp(nFrom), nameTo: nTo, answer: new RegExp(aFrom), answerTo: aTo });
  }
  return rules;
}

const substitute = (template: string, groups: RegExpExecArray): string =>
  template.replace(/\{(\d+)\}/g, (_, n: string) => groups[Number(n)] ?? '');

/** What CoreDNS's rewrite plugin does with `rewrite stop` rules: first matching rule wins. */
export function simulate(rules: readonly RewriteRule[], query: string): { rewritten: string; answer: (name: string) => string } | null {
  for (const rule of rules) {
    const m = rule.name.exec(query);
    if (!m) continue;
    return {
      rewritten: substitute(rule.nameTo, m),
      answer: (name) => {
        const a = rule.answer.exec(name);
        return a ? substitute(rule.answerTo, a) : name;
      },
    };
  }
  return null;
}

export const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

/** A random edit that keeps a Corefile valid: whitespace, comments, line endings, extra blocks. */
export function randomEdit(rand: () => number, corefile: string): string {
  const edits: Array<(c: string) => string> = [
    (c) => c.replace(/\r?\n/g, '\r\n'),
    (c) => c.replace(/(\r?\n)+$/, ''),
    (c) => `${c}\n\n   \n`,
    (c) => c.replace(/^ {4}/gm, '\t'),
    (c) => c.replace(/^\uFEFF?/, (bom) => `${bom}# header comment ${Math.floor(rand() * 1000)}\n`),
    (c) => {
      const lines = c.split('\n');
      const at = Math.floor(rand() * (lines.length + 1));
      lines.splice(at, 0, `  # note ${Math.floor(rand() * 1000)} { not a brace`);
      return lines.join('\n');
    },
    (c) => `${c}${/\n$/.test(c) || c === '' ? '' : '\n'}${pick(rand, ['example.org', 'corp.internal', 'svc.plexus-like.com'])}:53 {\n    forward . 10.0.${Math.floor(rand() * 255)}.53\n}\n`,
    (c) => c.replace(/ {2,}/, '   '),
    // Saved by a Windows editor: a byte order mark, which CoreDNS skips.
    (c) => (c.startsWith('\uFEFF') ? c : `\uFEFF${c}`),
    // Non-ASCII whitespace (no-break space, form feed) between words.
    (c) => c.replace(/ (?=\S)/, pick(rand, ['\u00a0', '\f'])),
  ];
  let out = corefile;
  const count = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < count; i++) out = pick(rand, edits)(out);
  return out;
}

/** A random valid Service name or namespace, sometimes long or with `--`. */
export function randomLabel(rand: () => number, first: 'letter' | 'alnum'): string {
  const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const length = rand() < 0.15 ? 30 + Math.floor(rand() * 34) : 1 + Math.floor(rand() * 14);
  let s = first === 'letter' ? pick(rand, [...letters]) : pick(rand, [...alnum]);
  while (s.length < length) {
    const r = rand();
    s += r < 0.1 ? '-' : r < 0.13 ? '--' : pick(rand, [...alnum]);
  }
  s = s.slice(0, 63).replace(/-+$/, '');
  return s === '' ? 'a' : s;
}
