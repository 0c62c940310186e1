// How the admin CLI prints: a readable table for people, or `--json` (the object or array
// alone on stdout) for scripts.

export type Cell = string | number | boolean | Date | null | undefined;

export function formatCell(value: Cell): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return String(value);
}

export function table(headers: string[], rows: Cell[][]): string {
  if (!rows.length) return '(none)';
  const text = rows.map((row) => row.map(formatCell));
  const widths = headers.map((header, i) => Math.max(header.length, ...text.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...text.map(line)].join('\n');
}

/** Key/value lines for one object. */
export function details(pairs: [string, Cell | Cell[]][]): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs
    .map(([key, value]) => `${`${key}:`.padEnd(width + 1)}  ${Array.isArray(value) ? value.map(formatCell).join(', ') || '-' : formatCell(value)}`)
    .join('\n');
}

export function emit(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}
