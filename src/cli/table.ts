/** A value as a table cell: one line, nothing for missing values. */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/[\r\n\t]+/g, ' ');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** Rows under upper-case headers, columns padded to their widest cell; an empty list says so. */
export function formatTable(headers: readonly string[], rows: readonly (readonly unknown[])[], empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((row) => headers.map((_, index) => cell(row[index])));
  const widths = headers.map((header, index) => Math.max(header.length, ...cells.map((row) => [...(row[index] ?? '')].length)));
  const render = (row: readonly string[]): string =>
    row
      .map((text, index) => (index === row.length - 1 ? text : text + ' '.repeat((widths[index] ?? 0) - [...text].length)))
      .join('  ')
      .trimEnd();
  return `${[render(headers.map((header) => header.toUpperCase())), ...cells.map(render)].join('\n')}\n`;
}
