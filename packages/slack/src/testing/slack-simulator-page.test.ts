import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackSimulator } from "./simulator-types.ts";
import { webClient } from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

async function page(
  simulator: SlackSimulator,
  path: string,
): Promise<{ status: number; type: string | null; html: string }> {
  const response = await fetch(`${simulator.baseUrl}${path}`);
  return { status: response.status, type: response.headers.get("content-type"), html: await response.text() };
}

describe("Slack simulator: the read-only web page", () => {
  let simulator: SlackSimulator;

  beforeAll(async () => {
    simulator = await startSlackSimulator({
      rateLimits: false,
      now: () => new Date("2026-03-01T12:34:56Z"),
      channels: [
        { id: "C0SALES", name: "sales", topic: "Customer chats" },
        { id: "C0PRIVATE", name: "private-team", isPrivate: true, botIsMember: false },
      ],
      users: [
        { id: "U0ALEX", name: "alex", realName: "Alex Rivera" },
        { id: "U0SAM", name: "sam", realName: "Sam <Lee>" },
      ],
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("GET / lists the channels with their threads; GET /channels/<id> shows a thread with replies, files and reactions", async () => {
    const client = webClient(simulator);
    const parent = await client.chat.postMessage({
      channel: "C0SALES",
      text: "New chat with +1 555 0100",
      username: "+1 555 0100",
    });
    await simulator.users.post({
      user: "U0ALEX",
      channel: "C0SALES",
      threadTs: parent.ts as string,
      text: "I'll take it",
    });
    await client.filesUploadV2({
      channel_id: "C0SALES",
      thread_ts: parent.ts as string,
      file: Buffer.from("receipt"),
      filename: "receipt.pdf",
      initial_comment: "Customer sent a file",
    });
    await simulator.users.react({ user: "U0SAM", channel: "C0SALES", ts: parent.ts as string, name: "eyes" });
    await simulator.users.react({
      user: "U0ALEX",
      channel: "C0SALES",
      ts: parent.ts as string,
      name: "eyes",
    });
    await client.reactions.add({
      channel: "C0SALES",
      timestamp: parent.ts as string,
      name: "white_check_mark",
    });

    const index = await page(simulator, "/");
    expect(index.status).toBe(200);
    expect(index.type).toBe("text/html; charset=utf-8");
    expect(index.html).toContain("<!doctype html>");
    expect(index.html).not.toContain("<script");
    expect(index.html).toContain('<a href="/channels/C0SALES"><strong>#sales</strong></a>');
    expect(index.html).toContain("1 message · 1 thread");
    expect(index.html).toContain('New chat with +1 555 0100</a> <span class="muted">2 replies</span>');
    expect(index.html).toContain("🔒private-team");
    expect(index.html).toContain("app not in channel");

    const channel = await page(simulator, "/channels/C0SALES");
    expect(channel.status).toBe(200);
    const { html } = channel;
    expect(html).toContain("Customer chats");
    // The parent, by the customised bot name, with its time.
    expect(html).toContain('<span class="author">+1 555 0100</span><span class="badge">APP</span>');
    expect(html).toContain('datetime="2026-03-01T12:34:56.000Z">2026-03-01 12:34:56 UTC</time>');
    expect(html).toContain('<div class="text">New chat with +1 555 0100</div>');
    // Replies in order inside the parent.
    const replies = html.slice(html.indexOf('<section class="replies"'));
    expect(replies.indexOf("I&#39;ll take it")).toBeGreaterThan(0);
    expect(replies.indexOf("Customer sent a file")).toBeGreaterThan(replies.indexOf("I&#39;ll take it"));
    expect(replies).toContain('<span class="author">Alex Rivera</span>');
    // The file: name, type, size and a link that serves it.
    const link =
      /<li class="file"><a href="([^"]+)">receipt\.pdf<\/a> <span class="muted">PDF, 7 B<\/span><\/li>/.exec(
        html,
      );
    expect(link).not.toBeNull();
    const file = await fetch(`${simulator.baseUrl}${link?.[1]}`);
    expect(file.headers.get("content-type")).toBe("application/pdf");
    expect(await file.text()).toBe("receipt");
    // Reactions with counts; user names are in the title.
    expect(html).toContain('<span class="reaction" title="U0SAM, U0ALEX">:eyes: 2</span>');
    expect(html).toContain(":white_check_mark: 1</span>");
  });

  it("escapes everything users and apps write", async () => {
    await simulator.users.post({
      user: "U0SAM",
      channel: "C0SALES",
      text: `<script>alert("x")</script> & <b>bold</b>`,
    });
    const { html } = await page(simulator, "/channels/C0SALES");
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;");
    expect(html).toContain('<span class="author">Sam &lt;Lee&gt;</span>');
  });

  it("unknown channels and paths answer a 404 page; page views are not recorded as requests", async () => {
    expect((await page(simulator, "/channels/C0NOPE")).status).toBe(404);
    expect((await page(simulator, "/nothing/here")).status).toBe(404);
    expect((await page(simulator, "/channels/C0PRIVATE")).status).toBe(200);
    expect(simulator.requests).toEqual([]);
  });
});
