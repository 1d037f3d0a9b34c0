import { describe, expect, it } from "vitest";
import {
  createProgressBar,
  formatElapsed,
  type ProgressSnapshot,
  renderProgressLine,
} from "./progress-bar.ts";

function stream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { writes, isTTY, columns, write: (text: string) => writes.push(text) };
}

const snapshot = (done: number, queued: number): ProgressSnapshot => ({
  phase: "messages",
  done,
  total: 40,
  unit: "chats",
  counters: [{ label: "messages queued", value: queued }],
  rate: { count: queued, unit: "messages" },
});

describe("progress bar", () => {
  it("renders done/total, a bar, a percentage, counters, elapsed time and a rate", () => {
    expect(renderProgressLine("backfill slack", snapshot(10, 300), 30_000, 10)).toBe(
      "backfill slack messages [==>       ] 10/40 chats 25% | 300 messages queued | 0:30 | 10.0 messages/s",
    );
    expect(renderProgressLine("x", { done: 5, unit: "contacts" }, 1_000)).toBe("x 5 contacts | 0:01");
    expect(renderProgressLine("x", { done: 40, total: 40, unit: "chats" }, 0, 4)).toContain(
      "[====] 40/40 chats 100%",
    );
    expect(formatElapsed(3_723_000)).toBe("1:02:03");
    expect(formatElapsed(59_999)).toBe("0:59");
  });

  it("off a terminal prints whole lines: at the first update, then at most every interval, and at the end", () => {
    let now = 0;
    const output = stream(false);
    const bar = createProgressBar({
      stream: output,
      label: "backfill",
      lineIntervalMs: 10_000,
      now: () => now,
    });
    bar.update(snapshot(1, 10));
    now = 2_000;
    bar.update(snapshot(2, 20));
    now = 11_000;
    bar.update(snapshot(3, 30));
    bar.log("+15550002222 skipped: no route matches it");
    now = 12_000;
    bar.finish(snapshot(40, 400));
    expect(output.writes.every((text) => text.endsWith("\n") && !text.includes("\r"))).toBe(true);
    expect(output.writes).toHaveLength(4);
    expect(output.writes[0]).toContain("1/40 chats");
    expect(output.writes[1]).toContain("3/40 chats");
    expect(output.writes[2]).toBe("+15550002222 skipped: no route matches it\n");
    expect(output.writes[3]).toContain("40/40 chats 100%");
    expect(output.writes[3]).toContain("0:12");
  });

  it("on a terminal redraws one line with \\r, erases its end, fits the width and ends with a newline", () => {
    let now = 0;
    const output = stream(true, 60);
    const bar = createProgressBar({
      stream: output,
      label: "backfill slack",
      redrawIntervalMs: 100,
      now: () => now,
    });
    bar.update(snapshot(1, 10));
    now = 50;
    bar.update(snapshot(2, 20)); // within the redraw interval: skipped
    now = 200;
    bar.update(snapshot(3, 30));
    bar.log("a notice");
    bar.finish();
    const [first, second, notice, redraw, final, newline] = output.writes;
    expect(first?.startsWith("\r")).toBe(true);
    expect(first?.endsWith("\u001b[K")).toBe(true);
    expect(first).toContain("1/40");
    expect(second).toContain("3/40");
    expect(notice).toBe("\r\u001b[Ka notice\n");
    expect(redraw).toContain("3/40");
    expect(final).toContain("3/40");
    expect(newline).toBe("\n");
    expect(output.writes).toHaveLength(6);
    for (const text of output.writes) {
      const line = text.replace(/^\r/, "").replaceAll("\u001b[K", "").replace(/\n$/, "");
      expect([...line].length).toBeLessThan(60);
    }
  });
});
