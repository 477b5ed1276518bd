/** Facts read from a user's Corefile: cluster domain, root server port, `*.server` imports. */
import { serverBlocks, tokenize, zoneOfKey, type Token } from './corefile-lexer.js';

/** The first zone of the first `kubernetes` directive that is not a reverse zone, or null. */
export function clusterDomainOf(corefile: string): string | null {
  const tokens = tokenize(corefile);
  for (const [i, token] of tokens.entries()) {
    if (token.quoted || token.text !== 'kubernetes') continue;
    for (const zone of sameLineWords(tokens, i)) {
      const domain = zoneOfKey(zone);
      if (domain !== '' && !domain.endsWith('.arpa')) return domain;
    }
  }
  return null;
}

/**
 * The explicit port of the first plain-DNS server block for the root zone (`.:1053` → 1053), or
 * null when it has none. The mesh block must listen where cluster DNS queries arrive.
 * Throws CorefileSyntaxError for a Corefile whose server blocks cannot be read.
 */
export function rootServerPort(corefile: string): number | null {
  for (const block of serverBlocks(corefile)) {
    for (const key of block.keys) {
      const scheme = /^([a-z0-9+.-]+):\/\//i.exec(key)?.[1]?.toLowerCase() ?? 'dns';
      if (scheme !== 'dns' || zoneOfKey(key) !== '') continue;
      const port = /:(\d+)$/.exec(key)?.[1];
      return port === undefined ? null : Number(port);
    }
  }
  return null;
}

/** True when a top-level `import` pulls in `*.server` files (AKS, k3s `coredns-custom`). */
export function importsServerFiles(corefile: string): boolean {
  const tokens = tokenize(corefile);
  let depth = 0;
  for (const [i, token] of tokens.entries()) {
    if (!token.quoted && token.text === '{') depth++;
    else if (!token.quoted && token.text === '}') depth--;
    else if (depth === 0 && !token.quoted && token.text === 'import' && sameLineWords(tokens, i).some((w) => w.endsWith('*.server'))) return true;
  }
  return false;
}

function sameLineWords(tokens: readonly Token[], index: number): string[] {
  const line = (tokens[index] as Token).line;
  const words: string[] = [];
  for (let i = index + 1; i < tokens.length && (tokens[i] as Token).line === line; i++) {
    const t = tokens[i] as Token;
    if (!t.quoted && t.text === '{') break;
    words.push(t.text);
  }
  return words;
}
