/**
 * Reads samples out of a Prometheus text exposition (format 0.0.4), as the agents' /metrics
 * serve it: `name{label="value",...} value`. Label values may hold escaped `\\`, `\"` and `\n`.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** The samples of the metrics named in `names` (others are skipped unparsed). */
export function parseSamples(text: string, names: ReadonlySet<string>): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (name === undefined || !names.has(name)) continue;
    const sample = parseLine(line, name);
    if (sample !== null) samples.push(sample);
  }
  return samples;
}

function parseLine(line: string, name: string): Sample | null {
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    while (line[pos] !== '}') {
      const eq = line.indexOf('=', pos);
      if (eq === -1 || line[eq + 1] !== '"') return null;
      const label = line.slice(pos, eq).trim();
      let value = '';
      let i = eq + 2;
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\') {
          i++;
          value += line[i] === 'n' ? '\n' : line[i];
        } else {
          value += line[i];
        }
      }
      if (i >= line.length) return null;
      labels[label] = value;
      pos = i + 1;
      if (line[pos] === ',') pos++;
      if (pos >= line.length) return null;
    }
    pos++;
  }
  const value = Number(line.slice(pos).trim().split(/\s+/)[0]);
  return Number.isNaN(value) ? null : { name, labels, value };
}
