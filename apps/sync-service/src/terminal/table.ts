/**
 * Plain-text tables for the CLI: columns padded to their content, a rule under the header, long cells
 * wrapped (or cut with "…") so that the table fits the terminal. No colours: the output is the same
 * on a terminal, in a pipe and in a CI log.
 */

export interface TableColumn {
  header: string;
  /** "wrap": long values wrap onto further lines (and the column shrinks first); "truncate": cut with "…". Default "truncate". */
  overflow?: "wrap" | "truncate";
  /** Never wider than this. */
  maxWidth?: number;
  /** Never narrower than this when shrinking (default: the header's width, at most 12). */
  minWidth?: number;
  align?: "left" | "right";
}

export interface RenderTableOptions {
  /** The widest a line may be (a terminal's columns); default 120. */
  maxWidth?: number;
  /** Between columns; default two spaces. */
  gap?: string;
}

/** The width of `text` in terminal cells: code points (the CLI prints no wide characters). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const _ of text) width += 1;
  return width;
}

/** `text` cut to `width` cells, ending in "…" when it was longer. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  const characters = [...text];
  if (characters.length <= width) return text;
  if (width === 1) return "…";
  return `${characters.slice(0, width - 1).join("")}…`;
}

/** Splits `text` into lines of at most `width` cells, at spaces where possible. */
export function wrapText(text: string, width: number): string[] {
  if (width <= 0) return [text];
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/ +/)) {
      let rest = word;
      while (displayWidth(rest) > width) {
        // A word longer than the column: put what fits on the current line, carry the remainder.
        const room = line === "" ? width : width - displayWidth(line) - 1;
        if (room <= 0) {
          lines.push(line);
          line = "";
          continue;
        }
        const characters = [...rest];
        const head = characters.slice(0, room).join("");
        line = line === "" ? head : `${line} ${head}`;
        lines.push(line);
        line = "";
        rest = characters.slice(room).join("");
      }
      if (rest === "") continue;
      if (line === "") line = rest;
      else if (displayWidth(line) + 1 + displayWidth(rest) <= width) line = `${line} ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
  }
  return lines;
}

function pad(text: string, width: number, align: "left" | "right"): string {
  const fill = " ".repeat(Math.max(0, width - displayWidth(text)));
  return align === "right" ? `${fill}${text}` : `${text}${fill}`;
}

/** Renders `rows` (one string per column) under `columns`; ends without a newline. */
export function renderTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  options: RenderTableOptions = {},
): string {
  const gap = options.gap ?? "  ";
  const maxWidth = Math.max(20, options.maxWidth ?? 120);
  // Wrapping cells keep their line breaks; truncated ones are one line.
  const cell = (row: readonly string[], index: number) => {
    const text = (row[index] ?? "").replace(/\r\n/g, "\n");
    return columns[index]?.overflow === "wrap" ? text : text.replace(/\n/g, " ");
  };
  const widths = columns.map((column, index) => {
    const natural = Math.max(
      displayWidth(column.header),
      ...rows.map((row) => Math.max(...cell(row, index).split("\n").map(displayWidth))),
    );
    return Math.min(natural, column.maxWidth ?? Number.POSITIVE_INFINITY);
  });
  const minimum = (index: number) => {
    const column = columns[index];
    return Math.max(1, column?.minWidth ?? Math.min(12, displayWidth(column?.header ?? "")));
  };
  const total = () =>
    widths.reduce((sum, width) => sum + width, 0) + displayWidth(gap) * (columns.length - 1);
  // Shrink the widest column that may shrink (wrapping ones first) until the table fits.
  for (const overflow of ["wrap", "truncate"] as const) {
    while (total() > maxWidth) {
      let widest = -1;
      widths.forEach((width, index) => {
        const column = columns[index];
        if ((column?.overflow ?? "truncate") !== overflow || width <= minimum(index)) return;
        if (widest === -1 || width > (widths[widest] ?? 0)) widest = index;
      });
      if (widest === -1) break;
      // One cell at a time, so that shrinking columns end up balanced.
      widths[widest] = (widths[widest] ?? 0) - 1;
    }
  }
  const lines: string[] = [];
  const renderLine = (cells: readonly string[]) =>
    cells
      .map((text, index) => pad(text, widths[index] ?? 0, columns[index]?.align ?? "left"))
      .join(gap)
      .trimEnd();
  lines.push(renderLine(columns.map((column, index) => truncate(column.header, widths[index] ?? 0))));
  lines.push(renderLine(widths.map((width) => "─".repeat(width))));
  for (const row of rows) {
    const cellLines = columns.map((column, index) => {
      const width = widths[index] ?? 0;
      const text = cell(row, index);
      return column.overflow === "wrap" ? wrapText(text, width) : [truncate(text, width)];
    });
    const height = Math.max(...cellLines.map((entry) => entry.length));
    for (let line = 0; line < height; line += 1) {
      lines.push(renderLine(cellLines.map((entry) => entry[line] ?? "")));
    }
  }
  return lines.join("\n");
}
