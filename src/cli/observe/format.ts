/** Plain-text tables and the units stat, top and tap print. */

/** Columns padded to their widest cell; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

export function percent(share: number | null): string {
  return share === null ? '-' : `${(share * 100).toFixed(2)}%`;
}

export function rate(perSecond: number): string {
  return `${perSecond.toFixed(1)}rps`;
}

export function latency(seconds: number | null): string {
  if (seconds === null) return '-';
  const ms = seconds * 1000;
  return ms < 10 ? `${ms.toFixed(2)}ms` : ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(2)}s`;
}
