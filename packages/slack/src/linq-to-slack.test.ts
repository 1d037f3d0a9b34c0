import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseWebhookEvent } from "@linq-connect/core";
import { afterEach, describe, expect, it } from "vitest";
import { CHANNEL, CUSTOMER, LINQ_NUMBER, startWorld, type World } from "./connector-harness.test-helpers.ts";
import type { SlackMessage } from "./testing/index.ts";

let world: World | undefined;
let fileServer: Server | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
  if (fileServer !== undefined) {
    fileServer.closeAllConnections();
    await new Promise((resolve) => fileServer?.close(resolve));
    fileServer = undefined;
  }
});

/** Serves `/small.png` (a few bytes), `/big.bin` (3 MB) and 404 for anything else. */
async function startFileServer(): Promise<string> {
  const small = Buffer.from("89504e470d0a1a0a-a-small-png", "utf8");
  fileServer = createServer((request, response) => {
    if (request.url === "/small.png") {
      response.writeHead(200, { "content-type": "image/png", "content-length": String(small.length) });
      response.end(small);
    } else if (request.url === "/big.bin") {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.end(Buffer.alloc(3 * 1024 * 1024, 1));
    } else {
      response.writeHead(404).end("Not Found");
    }
  });
  await new Promise<void>((resolve) => fileServer?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
}

function texts(messages: SlackMessage[]): string[] {
  return messages.map((message) => message.text);
}

function blockText(message: SlackMessage | undefined): string {
  return JSON.stringify(message?.blocks ?? []);
}

async function threadOf(target: World, chatId: number): Promise<SlackMessage[]> {
  const threadTs = await target.threadTsOf(chatId);
  if (threadTs === undefined) throw new Error(`chat ${chatId} has no thread`);
  return target.slack.state.thread(CHANNEL, threadTs);
}

describe("Linq → Slack: threads and messages", () => {
  it("mirrors a customer's text into a new thread whose parent is the conversation header", async () => {
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Is my order ready?" });
    await world.settle();

    const thread = await threadOf(world, chat.id);
    expect(thread).toHaveLength(2);
    const [header, reply] = thread;
    expect(header?.text).toBe("Conversation with (555) 123-4567 · iMessage");
    expect(blockText(header)).toContain("via (555) 000-1111");
    expect(reply?.text).toBe("(555) 123-4567: Is my order ready?");
    expect(blockText(reply)).toContain("<!date^");
    expect(reply?.metadata?.event_type).toBe("linq_connect");
    // One thread only: the channel has one top-level message.
    expect(world.slack.state.messages(CHANNEL)).toHaveLength(1);
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("puts a second text in the same thread, in order", async () => {
    world = await startWorld();
    const first = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hello" });
    await world.settle();
    await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Anyone there?" });
    await world.settle();
    expect(world.slack.state.messages(CHANNEL)).toHaveLength(1);
    expect(texts(await threadOf(world, first.chat.id)).slice(1)).toEqual([
      "(555) 123-4567: Hello",
      "(555) 123-4567: Anyone there?",
    ]);
  });

  it("names the customer from the Linq contact and updates the header when the name appears", async () => {
    world = await startWorld({ connector: { contactNameTtlSeconds: 0 } });
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hi" });
    await world.settle();
    expect((await threadOf(world, chat.id))[0]?.text).toContain("Conversation with (555) 123-4567");

    await world.linq.createContact({
      contact: { first_name: "Jane", last_name: "Doe", phone_number: CUSTOMER },
    });
    await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "It's Jane" });
    await world.settle();
    const thread = await threadOf(world, chat.id);
    expect(thread[0]?.text).toBe("Conversation with Jane Doe ((555) 123-4567) · iMessage");
    expect(thread[0]?.edited).toBeDefined();
    expect(thread.at(-1)?.text).toBe("Jane Doe ((555) 123-4567): It's Jane");
  });

  it("uses the CRM's name and record link when a CRM link provider is configured", async () => {
    world = await startWorld({
      connector: {
        crmLinks: async (address) =>
          address === CUSTOMER
            ? { name: "Jane from HubSpot", url: "https://app.hubspot.com/contacts/1/record/0-1/42" }
            : undefined,
      },
    });
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hi" });
    await world.settle();
    const [header] = await threadOf(world, chat.id);
    expect(header?.text).toContain("Jane from HubSpot");
    expect(blockText(header)).toContain("<https://app.hubspot.com/contacts/1/record/0-1/42|CRM record>");
  });

  it("posts a line and updates the header when a participant joins or leaves", async () => {
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hi" });
    await world.settle();
    await world.linqSimulator.inbound.addParticipant({ chatId: chat.id, phoneNumber: "+15557654321" });
    await world.settle();
    let thread = await threadOf(world, chat.id);
    expect(blockText(thread.at(-1))).toContain("(555) 765-4321 joined the conversation");
    expect(blockText(thread[0])).toContain("(555) 765-4321");
    expect(thread[0]?.edited).toBeDefined();

    await world.linqSimulator.inbound.removeParticipant({ chatId: chat.id, phoneNumber: "+15557654321" });
    await world.settle();
    thread = await threadOf(world, chat.id);
    expect(blockText(thread.at(-1))).toContain("(555) 765-4321 left the conversation");
    expect(blockText(thread[0])).not.toContain("765-4321");
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("mirrors a message sent from Linq (another device, the API) as an outbound reply", async () => {
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hi" });
    await world.settle();
    await world.linq.sendMessage(chat.id, { text: "Sent from the Linq app" });
    await world.settle();
    const thread = await threadOf(world, chat.id);
    expect(thread.at(-1)?.text).toBe("Sent by Admin User from (555) 000-1111: Sent from the Linq app");
    expect(blockText(thread.at(-1))).toContain(":outbox_tray:");
  });

  it("escapes what customers type so that they cannot ping the channel or forge links", async () => {
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({
      from: CUSTOMER,
      text: "<!channel> see <https://evil.example|bank> & co",
    });
    await world.settle();
    const reply = (await threadOf(world, chat.id))[1];
    expect(blockText(reply)).toContain("&lt;!channel&gt; see &lt;https://evil.example|bank&gt; &amp; co");
    expect(blockText(reply)).not.toContain("<!channel>");
  });

  it("is idempotent: an event delivered twice posts once", async () => {
    world = await startWorld();
    world.linqSimulator.webhooks.configure({ duplicateProbability: 1 });
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Twice?" });
    await world.settle();
    // The harness dedupes by event id; handling the same event again (a second host, a replay) is a no-op too.
    const event = world.harness.events.find((candidate) => candidate.event_type === "message.received");
    if (event === undefined || !event.known) throw new Error("no event");
    await world.connector.handleEvent(
      event,
      world.harness.context({ name: "sales", settings: { channel: CHANNEL } }),
    );
    expect(texts(await threadOf(world, chat.id))).toEqual([
      "Conversation with (555) 123-4567 · iMessage",
      "(555) 123-4567: Twice?",
    ]);
  });
});

describe("Linq → Slack: attachments", () => {
  it("uploads an attachment into the thread with the two-step upload", async () => {
    const files = await startFileServer();
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({
      from: CUSTOMER,
      text: "Here is the photo",
      attachments: [
        { url: `${files}/small.png`, filename: "photo.png", mime_type: "image/png", file_size: 28 },
      ],
    });
    await world.settle();
    const thread = await threadOf(world, chat.id);
    expect(thread).toHaveLength(3);
    expect(blockText(thread[1])).toContain(":paperclip: 1 attachment");
    const shared = thread[2];
    expect(shared?.files?.map((file) => file.name)).toEqual(["photo.png"]);
    const file = world.slack.state.files().find((candidate) => candidate.name === "photo.png");
    expect(world.slack.state.fileContent(file?.id ?? "")?.toString("utf8")).toBe(
      "89504e470d0a1a0a-a-small-png",
    );
    const methods = world.slack.requests.map((request) => request.method);
    expect(methods).toContain("files.getUploadURLExternal");
    expect(methods).toContain("upload");
    expect(methods).toContain("files.completeUploadExternal");
  });

  it("posts a link and the reason for an attachment that is too large or unreachable", async () => {
    const files = await startFileServer();
    world = await startWorld({ connector: { maxAttachmentBytes: 1024 * 1024 } });
    const { chat } = await world.linqSimulator.inbound.text({
      from: CUSTOMER,
      text: "Files",
      attachments: [
        { url: `${files}/big.bin`, filename: "video.mov", mime_type: "video/quicktime" },
        { url: `${files}/gone.pdf`, filename: "gone.pdf", mime_type: "application/pdf" },
      ],
    });
    await world.settle();
    const thread = await threadOf(world, chat.id);
    const notes = thread.slice(2).map((message) => blockText(message));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toContain(`<${files}/big.bin|video.mov>`);
    expect(notes[0]).toContain("too large");
    expect(notes[1]).toContain(`<${files}/gone.pdf|gone.pdf>`);
    expect(notes[1]).toContain("unreachable: the file server answered HTTP 404");
    expect(world.slack.state.files()).toEqual([]);
  });
});

describe("Linq → Slack: reactions, receipts, delivery problems, calls, typing", () => {
  it("shows a customer's reaction as the mapped emoji (route overrides included) and a read receipt as eyes", async () => {
    world = await startWorld({
      routes: [
        {
          name: "sales",
          match: { linqNumbers: [LINQ_NUMBER] },
          slack: { channel: CHANNEL, reactions: { love: "sparkling_heart" } },
        },
      ],
    });
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hi" });
    await world.settle();
    const sent = await world.linq.sendMessage(chat.id, { text: "Your order shipped" });
    await world.settle();
    await world.linqSimulator.inbound.react({ messageId: Number(sent.id), from: CUSTOMER, reaction: "love" });
    await world.linqSimulator.inbound.react({ messageId: Number(sent.id), from: CUSTOMER, reaction: "like" });
    await world.linqSimulator.inbound.read({ chatId: chat.id, messageId: Number(sent.id) });
    await world.settle();
    const mirrored = (await threadOf(world, chat.id)).at(-1);
    expect(mirrored?.text).toContain("Your order shipped");
    expect(mirrored?.reactions?.map((reaction) => reaction.name).sort()).toEqual([
      "+1",
      "eyes",
      "sparkling_heart",
    ]);
  });

  it("warns in the thread when Linq reports a sent message as not delivered", async () => {
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hi" });
    await world.settle();
    await world.linqSimulator.webhooks.deliver({
      event_type: "message.sent",
      data: {
        id: "99001",
        chat_id: String(chat.id),
        text: "Can you hear me?",
        from_phone: LINQ_NUMBER,
        service: "iMessage",
        delivery_status: "service_unavailable",
        chat_handles: [
          { identifier: CUSTOMER, is_me: false },
          { identifier: LINQ_NUMBER, is_me: true },
        ],
      },
    });
    await world.settle();
    const thread = await threadOf(world, chat.id);
    expect(thread.at(-2)?.text).toContain("Can you hear me?");
    expect(thread.at(-1)?.text).toMatch(/^Warning: Message not delivered: the recipient cannot be reached/);
  });

  it("posts a completed call with direction, duration, voicemail, recording, summary and a truncated transcript", async () => {
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Call me" });
    await world.settle();
    const transcript = `Agent: Hello. ${"Customer: my parcel is late. ".repeat(150)}Agent: Bye.`;
    await world.linqSimulator.inbound.call({
      from: CUSTOMER,
      direction: "inbound",
      durationSeconds: 205,
      voicemail: true,
      recording: { transcription: transcript, summary: "The parcel is late" },
    });
    await world.settle();
    const thread = await threadOf(world, chat.id);
    const call = thread.find((message) => message.text.startsWith("Inbound call from"));
    expect(call?.text).toBe("Inbound call from (555) 123-4567, 3:25, voicemail: The parcel is late");
    const blocks = blockText(call);
    expect(blocks).toContain("3:25");
    expect(blocks).toContain(":mailbox_with_mail: voicemail");
    expect(blocks).toContain("|Recording>");
    expect(blocks).toContain("*Summary:* The parcel is late");
    expect(blocks).toContain("Transcript truncated");
    for (const block of call?.blocks ?? []) {
      const text = (block as { text?: { text?: string } }).text?.text;
      if (text !== undefined) expect(text.length).toBeLessThanOrEqual(3000);
    }
    const file = world.slack.state.files().find((candidate) => candidate.name.endsWith("-transcript.txt"));
    expect(world.slack.state.fileContent(file?.id ?? "")?.toString("utf8")).toBe(transcript);
    expect(world.harness.queue.dead).toEqual([]);
  });

  it("does not post typing indicators unless the route asks for them", async () => {
    world = await startWorld();
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hi" });
    await world.settle();
    await world.linqSimulator.inbound.typing({ chatId: chat.id, from: CUSTOMER, display: true });
    await world.settle();
    expect(await threadOf(world, chat.id)).toHaveLength(2);
  });

  it("shows a typing line while the customer types when postTypingIndicators is on", async () => {
    world = await startWorld({
      routes: [
        {
          name: "sales",
          match: { linqNumbers: [LINQ_NUMBER] },
          slack: { channel: CHANNEL, postTypingIndicators: true },
        },
      ],
    });
    const { chat } = await world.linqSimulator.inbound.text({ from: CUSTOMER, text: "Hi" });
    await world.settle();
    await world.linqSimulator.inbound.typing({ chatId: chat.id, from: CUSTOMER, display: true });
    await world.settle();
    expect(blockText((await threadOf(world, chat.id)).at(-1))).toContain("is typing");
    await world.linqSimulator.inbound.typing({ chatId: chat.id, from: CUSTOMER, display: false });
    await world.settle();
    expect(texts(await threadOf(world, chat.id))).toHaveLength(2);
  });
});

describe("Linq → Slack: backfill", () => {
  it("mirrors the host's synthesized history events (oldest first) once, however often the backfill runs", async () => {
    world = await startWorld();
    // History from before the mirror existed (its live webhooks are not handled): a chat, two messages.
    world.harness.holdEvents = true;
    const { chat, message } = await world.linqSimulator.inbound.text({
      from: CUSTOMER,
      text: "Old question",
    });
    const answer = await world.linq.sendMessage(chat.id, { text: "Old answer" });
    await world.settle();
    expect(world.slack.state.messages(CHANNEL)).toEqual([]);
    const handles = [
      { identifier: CUSTOMER, display_name: null, is_me: false, service: "iMessage" },
      { identifier: LINQ_NUMBER, display_name: null, is_me: true },
    ];
    const synthesized = [
      { id: message.id, type: "message.received", from: CUSTOMER, text: "Old question", at: message.sent_at },
      {
        id: Number(answer.id),
        type: "message.sent",
        from: LINQ_NUMBER,
        text: "Old answer",
        at: answer.sent_at ?? message.sent_at,
      },
    ].map((item) =>
      parseWebhookEvent({
        api_version: "v2",
        event_id: `backfill-message-${item.id}`,
        event_type: item.type,
        created_at: item.at,
        data: {
          id: String(item.id),
          chat_id: String(chat.id),
          text: item.text,
          sent_at: item.at,
          is_read: null,
          from_phone: item.from,
          service: "iMessage",
          chat_handles: handles,
          attachments: [],
        },
      }),
    );
    const route = { name: "sales", settings: { channel: CHANNEL } };
    for (let run = 0; run < 2; run += 1) {
      for (const event of synthesized) {
        if (!event.known) throw new Error("unknown event");
        await world.connector.handleEvent(event, world.harness.context(route));
      }
    }
    expect(texts(await threadOf(world, chat.id))).toEqual([
      "Conversation with (555) 123-4567 · iMessage",
      "(555) 123-4567: Old question",
      "Sent from (555) 000-1111: Old answer",
    ]);
  });
});
