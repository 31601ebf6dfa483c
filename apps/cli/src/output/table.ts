/**
 * Rows as aligned columns under a header, for a terminal. `colour` may wrap a cell's text in
 * escape codes: widths are measured on the text without them.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], colour?: (row: number, col: number, text: string) => string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], row: number) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i]);
        return row >= 0 && colour ? colour(row, i, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(header, -1), ...rows.map((r, i) => line(r, i))].join('\n') + '\n';
}
