/** Plain-text tables for benchmark output: the first `leftColumns` columns left-aligned (labels), the rest right-aligned. */

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], leftColumns = 1): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function formatInteger(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatNumber(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function megabytes(bytes: number): number {
  return bytes / (1024 * 1024);
}

export function formatMegabytes(bytes: number): string {
  return `${formatNumber(megabytes(bytes), 1)} MB`;
}
