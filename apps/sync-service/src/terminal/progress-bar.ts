/**
 * A one-line progress display for long CLI runs (backfill), written to stderr so that stdout stays
 * clean for results.
 *
 * - On a terminal it redraws one line in place (`\r`, then "erase to end of line"), at most every
 *   `redrawIntervalMs`, cut to the terminal's width.
 * - Anywhere else (a pipe, a CI log) it prints a whole line at the first update and then at most every
 *   `lineIntervalMs`, so that a log shows the run advancing without a line per item.
 */

/** The part of a stream the CLI writes to (process.stdout / process.stderr, or a test double). */
export interface TerminalStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
  /** The terminal's width, when it is one. */
  columns?: number | undefined;
}

export interface ProgressCounter {
  label: string;
  value: number;
}

export interface ProgressSnapshot {
  /** What the run is doing ("listing chats", "messages", …). */
  phase?: string | undefined;
  /** Units done so far (chats). */
  done: number;
  /** Units in all, when known: draws a bar and a percentage. */
  total?: number | undefined;
  /** What a unit is, plural ("chats"). */
  unit: string;
  counters?: readonly ProgressCounter[] | undefined;
  /** The count the rate is computed from (messages queued), and its unit ("messages"). */
  rate?: { count: number; unit: string } | undefined;
}

export interface ProgressBarOptions {
  stream: TerminalStream;
  /** Printed before the bar, e.g. "backfill slack". */
  label: string;
  /** Default: the stream's `isTTY`. */
  interactive?: boolean;
  /** Terminal redraws at most this often. Default 100 ms. */
  redrawIntervalMs?: number;
  /** Non-terminal lines at most this often. Default 10 000 ms. */
  lineIntervalMs?: number;
  /** The clock (tests). Default Date.now. */
  now?: () => number;
  /** Cells of the bar itself. Default 24. */
  barWidth?: number;
}

export interface ProgressBar {
  update(snapshot: ProgressSnapshot): void;
  /** Prints a line of its own (a notice) without breaking the bar. */
  log(line: string): void;
  /** Draws the last state for good (a final line, ending with a newline). */
  finish(snapshot?: ProgressSnapshot): void;
}

/** "0:07", "12:34", "1:02:03". */
export function formatElapsed(milliseconds: number): string {
  const totalSeconds = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const twoDigits = (value: number) => String(value).padStart(2, "0");
  return hours > 0
    ? `${hours}:${twoDigits(minutes)}:${twoDigits(seconds)}`
    : `${minutes}:${twoDigits(seconds)}`;
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return "0";
  return perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
}

/** The text of one progress line (without `\r` or a newline). */
export function renderProgressLine(
  label: string,
  snapshot: ProgressSnapshot,
  elapsedMs: number,
  barWidth = 24,
): string {
  const parts: string[] = [label];
  if (snapshot.phase !== undefined) parts.push(snapshot.phase);
  const { done, total } = snapshot;
  if (total !== undefined && total > 0) {
    const fraction = Math.min(1, Math.max(0, done / total));
    const filled = Math.round(fraction * barWidth);
    const bar = `${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? (filled === barWidth ? "=" : ">") : ""}`;
    parts.push(
      `[${bar.padEnd(barWidth, " ")}] ${done}/${total} ${snapshot.unit} ${Math.floor(fraction * 100)}%`,
    );
  } else if (total === 0) {
    parts.push(`0/0 ${snapshot.unit}`);
  } else {
    parts.push(`${done} ${snapshot.unit}`);
  }
  const counters = (snapshot.counters ?? []).map((counter) => `${counter.value} ${counter.label}`);
  const details = [...counters, formatElapsed(elapsedMs)];
  if (snapshot.rate !== undefined) {
    details.push(
      `${formatRate(snapshot.rate.count / Math.max(elapsedMs / 1000, 0.001))} ${snapshot.rate.unit}/s`,
    );
  }
  return `${parts.join(" ")} | ${details.join(" | ")}`;
}

export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const { stream, label } = options;
  const interactive = options.interactive ?? stream.isTTY === true;
  const redrawIntervalMs = options.redrawIntervalMs ?? 100;
  const lineIntervalMs = options.lineIntervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  const barWidth = options.barWidth ?? 24;
  const startedAt = now();
  let lastSnapshot: ProgressSnapshot | undefined;
  let lastDrawnAt: number | undefined;
  let lineOnScreen = false;
  let finished = false;

  const fit = (line: string) => {
    const columns = stream.columns;
    if (columns === undefined || columns < 10) return line;
    const characters = [...line];
    return characters.length < columns ? line : `${characters.slice(0, columns - 2).join("")}…`;
  };

  const draw = (snapshot: ProgressSnapshot) => {
    const line = renderProgressLine(label, snapshot, now() - startedAt, barWidth);
    lastDrawnAt = now();
    if (interactive) {
      stream.write(`\r${fit(line)}\u001b[K`);
      lineOnScreen = true;
    } else {
      stream.write(`${line}\n`);
    }
  };

  return {
    update(snapshot) {
      if (finished) return;
      lastSnapshot = snapshot;
      const interval = interactive ? redrawIntervalMs : lineIntervalMs;
      if (lastDrawnAt !== undefined && now() - lastDrawnAt < interval) return;
      draw(snapshot);
    },
    log(line) {
      if (interactive && lineOnScreen) {
        stream.write(`\r\u001b[K${line}\n`);
        lineOnScreen = false;
        if (lastSnapshot !== undefined && !finished) draw(lastSnapshot);
        return;
      }
      stream.write(`${line}\n`);
    },
    finish(snapshot) {
      if (finished) return;
      const final = snapshot ?? lastSnapshot;
      finished = true;
      if (final !== undefined) draw(final);
      if (interactive && lineOnScreen) stream.write("\n");
      lineOnScreen = false;
    },
  };
}
