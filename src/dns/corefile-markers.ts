/**
 * Finds the Plexus regions in a Corefile, as byte ranges that include the one line terminator
 * Plexus writes before the BEGIN line, so removing a range gives back exactly the text that was
 * there before the patch. Two kinds, each at most once per mesh domain:
 * `# BEGIN plexus mesh-domain=D` … `# END plexus mesh-domain=D` (the mesh domain's server block)
 * and `# BEGIN plexus own-names=D` … (the hosts line inside the cluster domain's block).
 */
export type RegionKind = 'mesh-domain' | 'own-names';

export interface MarkedRegion {
  readonly kind: RegionKind;
  readonly meshDomain: string;
  /** Offset of the removable range (the line terminator before BEGIN when present). */
  readonly start: number;
  /** Offset after the END line and its terminator. */
  readonly end: number;
}

export class MarkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MarkerError';
  }
}

const beginLine = /^# BEGIN plexus (mesh-domain|own-names)=(\S+)$/;
const endLine = /^# END plexus (mesh-domain|own-names)=(\S+)$/;

interface Line {
  readonly content: string;
  readonly number: number;
  readonly start: number;
  readonly end: number;
}

function lines(text: string): Line[] {
  const result: Line[] = [];
  let start = 0;
  let number = 1;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline + 1;
    result.push({ content: text.slice(start, end).replace(/\r?\n$/, '').trim(), number, start, end });
    start = end;
    number++;
  }
  return result;
}

/** Every Plexus region; throws MarkerError on a damaged or duplicated region. */
export function findRegions(corefile: string): MarkedRegion[] {
  const regions: MarkedRegion[] = [];
  let open: { kind: RegionKind; domain: string; line: Line } | undefined;
  for (const line of lines(corefile)) {
    const begin = beginLine.exec(line.content);
    const end = endLine.exec(line.content);
    if (begin) {
      if (open) throw new MarkerError(`Corefile line ${line.number}: Plexus block begins inside the block opened at line ${open.line.number}; fix the markers by hand`);
      open = { kind: begin[1] as RegionKind, domain: begin[2] as string, line };
    } else if (end) {
      if (!open || open.kind !== end[1] || open.domain !== end[2]) throw new MarkerError(`Corefile line ${line.number}: "${line.content}" has no matching BEGIN marker; fix the markers by hand`);
      const { kind, domain } = open;
      if (regions.some((r) => r.kind === kind && r.meshDomain === domain)) throw new MarkerError(`Corefile line ${open.line.number}: a second Plexus ${kind} block for mesh domain ${domain}; remove one by hand`);
      // Never reach back into the previous region when two blocks touch.
      const floor = regions.length > 0 ? (regions[regions.length - 1] as MarkedRegion).end : 0;
      const start = Math.max(floor, leadingTerminatorStart(corefile, open.line.start));
      regions.push({ kind, meshDomain: domain, start, end: line.end });
      open = undefined;
    }
  }
  if (open) throw new MarkerError(`Corefile line ${open.line.number}: Plexus block for mesh domain ${open.domain} has no END marker; fix the markers by hand`);
  return regions;
}

function leadingTerminatorStart(text: string, lineStart: number): number {
  if (lineStart >= 2 && text.slice(lineStart - 2, lineStart) === '\r\n') return lineStart - 2;
  if (lineStart >= 1 && text[lineStart - 1] === '\n') return lineStart - 1;
  return lineStart;
}

/** The line terminator a Corefile uses (CRLF when its first line ends with one). */
export function lineTerminator(text: string): string {
  const newline = text.indexOf('\n');
  return newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n';
}
