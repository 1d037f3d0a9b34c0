/**
 * RFC 4180 CSV as the Bulk API 2.0 reads and writes it: a configurable column
 * delimiter, quoted cells (with `""` escapes and embedded line breaks), and the
 * line endings seen outside quotes (a job declares LF or CRLF and Salesforce
 * rejects data that uses the other).
 */

export interface ParsedCsv {
  rows: string[][];
  /** Line endings found between rows. */
  lineEndings: Set<"LF" | "CRLF">;
}

export const DELIMITERS = {
  COMMA: ",",
  TAB: "\t",
  PIPE: "|",
  SEMICOLON: ";",
  CARET: "^",
  BACKQUOTE: "`",
} as const;

export type ColumnDelimiter = keyof typeof DELIMITERS;

export function parseCsv(text: string, delimiter: string): ParsedCsv {
  const rows: string[][] = [];
  const lineEndings = new Set<"LF" | "CRLF">();
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  let cellStarted = false;
  const endRow = (): void => {
    row.push(cell);
    rows.push(row);
    row = [];
    cell = "";
    cellStarted = false;
  };
  for (let index = 0; index < text.length; index += 1) {
    const character = text.charAt(index);
    if (quoted) {
      if (character === '"') {
        if (text.charAt(index + 1) === '"') {
          cell += '"';
          index += 1;
        } else quoted = false;
      } else cell += character;
      continue;
    }
    if (character === '"' && !cellStarted) {
      quoted = true;
      cellStarted = true;
    } else if (character === delimiter) {
      row.push(cell);
      cell = "";
      cellStarted = false;
    } else if (character === "\r" && text.charAt(index + 1) === "\n") {
      lineEndings.add("CRLF");
      index += 1;
      endRow();
    } else if (character === "\n") {
      lineEndings.add("LF");
      endRow();
    } else {
      cell += character;
      cellStarted = true;
    }
  }
  if (cellStarted || cell !== "" || row.length > 0) endRow();
  return { rows: rows.filter((candidate) => !(candidate.length === 1 && candidate[0] === "")), lineEndings };
}

/** Every cell quoted, as Salesforce writes result files. */
export function writeCsv(rows: string[][], delimiter: string, lineEnding: "LF" | "CRLF"): string {
  const newline = lineEnding === "CRLF" ? "\r\n" : "\n";
  return (
    rows.map((row) => row.map((cell) => `"${cell.replace(/"/g, '""')}"`).join(delimiter)).join(newline) +
    (rows.length > 0 ? newline : "")
  );
}
