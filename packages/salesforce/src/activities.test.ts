import { afterEach, describe, expect, it } from "vitest";
import { dayOf } from "./activity-format.ts";
import { type Harness, linqEvent, startHarness } from "./connector-harness.test-helpers.ts";
import { CALL_MAPPING, DIGEST_MAPPING, TASK_MAPPING } from "./mappings.ts";

const JANE = "+15551234567";

/** Jane Doe as someone typed her into Salesforce. */
function createJane(harness: Harness, sobject: "Contact" | "Lead" = "Contact"): string {
  return harness.salesforce.users.create(sobject, {
    FirstName: "Jane",
    LastName: "Doe",
    Phone: "(555) 123-4567",
    ...(sobject === "Lead" ? { Company: "Acme" } : {}),
  }).Id;
}

function lastEvent(harness: Harness, type: string) {
  const event = harness.linqEvents.findLast((entry) => entry.event_type === type);
  if (event === undefined) throw new Error(`no ${type} event`);
  return event;
}

describe("conversations and calls as Salesforce Tasks", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("logs received and sent messages as Tasks on the matched Contact (per-message)", async () => {
    harness = await startHarness();
    const { linq, linqSimulator, salesforce } = harness;
    const janeId = createJane(harness);
    const { chat } = await linqSimulator.inbound.text({ from: JANE, text: "Is my order ready?" });
    await harness.settle();
    const before = salesforce.requests.length;
    await linq.sendMessage(chat.id, {
      text: "Yes!\nCome by.",
      attachmentUrls: ["https://example.com/receipt.pdf"],
    });
    await harness.settle();
    expect(harness.runner.deadLetters).toEqual([]);
    // A message of a known conversation costs two requests: the lost-create check and the create.
    expect(salesforce.requests.slice(before).map((request) => request.method)).toEqual(["GET", "POST"]);
    const tasks = salesforce.state.records("Task");
    expect(tasks).toHaveLength(2);
    const [received, sent] = tasks;
    const messages = linqSimulator.state.messages(chat.id);
    const today = dayOf(messages[0]?.sent_at ?? "", "UTC");
    expect(received).toMatchObject({
      WhoId: janeId,
      Subject: "iMessage from Jane Doe",
      ActivityDate: today,
      Status: "Completed",
      Priority: "Normal",
      TaskSubtype: "Task",
      IsClosed: true,
    });
    expect(received?.Description).toContain(
      "Inbound iMessage from Jane Doe ((555) 123-4567) to Linq number (555) 000-1111",
    );
    expect(received?.Description).toContain("\n\nIs my order ready?\n");
    expect(received?.Description).toMatch(new RegExp(`\\nLinq message id: ${messages[0]?.id}$`));
    expect(sent).toMatchObject({ WhoId: janeId, Subject: "iMessage to Jane Doe", TaskSubtype: "Task" });
    expect(sent?.Description).toContain("Outbound iMessage from Linq number (555) 000-1111 to Jane Doe");
    expect(sent?.Description).toContain("Yes!\nCome by.");
    expect(sent?.Description).toMatch(/Attachments:\n- [^\n]+: https:\/\/example\.com\/receipt\.pdf/);
    expect(salesforce.state.records("Contact")).toHaveLength(1);
    expect(
      harness.store
        .all(TASK_MAPPING)
        .map((mapping) => mapping.metadata.taskId)
        .sort(),
    ).toEqual(tasks.map((task) => task.Id).sort());
  });

  it("never logs a replayed message twice, even concurrently", async () => {
    harness = await startHarness();
    createJane(harness);
    await harness.linqSimulator.inbound.text({ from: JANE, text: "Hello" });
    await harness.settle();
    const event = lastEvent(harness, "message.received");
    await harness.connector.handleEvent(event, harness.context());
    await Promise.all([
      harness.connector.handleEvent(event, harness.context()),
      harness.connector.handleEvent(event, harness.context()),
    ]);
    expect(harness.salesforce.state.records("Task")).toHaveLength(1);
    expect(harness.store.all(TASK_MAPPING)).toHaveLength(1);
  });

  it("finds the Task of a create whose answer was lost instead of creating a second one", async () => {
    harness = await startHarness();
    const { salesforce } = harness;
    const janeId = createJane(harness);
    const fault = salesforce.faults.inject({
      kind: "drop-after-processing",
      match: { method: "POST", path: /\/sobjects\/Task$/ },
      times: 1,
    });
    await harness.linqSimulator.inbound.text({ from: JANE, text: "Hello once" });
    await harness.settle();
    expect(fault.hits).toBe(1);
    const tasks = salesforce.state.records("Task");
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ WhoId: janeId, Subject: "iMessage from Jane Doe" });
    expect(harness.store.all(TASK_MAPPING)[0]?.metadata.taskId).toBe(tasks[0]?.Id);
    expect(harness.runner.handled.map((entry) => entry.outcome)).toContain("retry");
  });

  it("creates the Contact of an unknown sender first, then logs; switched off, creates and logs nothing", async () => {
    harness = await startHarness();
    await harness.linqSimulator.inbound.text({ from: "+15559876543", text: "Who is this?" });
    await harness.settle();
    const contacts = harness.salesforce.state.records("Contact");
    expect(contacts).toHaveLength(1);
    const tasks = harness.salesforce.state.records("Task");
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.WhoId).toBe(contacts[0]?.Id);
    expect(tasks[0]?.Description).toContain("Who is this?");
    await harness.close();

    harness = await startHarness({ route: { createUnknownContacts: false } });
    await harness.linqSimulator.inbound.text({ from: "+15559876543", text: "Who is this?" });
    await harness.settle();
    expect(harness.runner.deadLetters).toEqual([]);
    expect(harness.salesforce.state.records("Contact")).toHaveLength(0);
    expect(harness.salesforce.state.records("Task")).toHaveLength(0);
    expect(harness.logs.some((entry) => entry.message?.includes("activity not logged"))).toBe(true);
  });

  it("logs on a Lead when the route syncs Leads", async () => {
    harness = await startHarness({ route: { objectType: "Lead" } });
    const leadId = createJane(harness, "Lead");
    await harness.linqSimulator.inbound.text({ from: JANE, text: "Interested", service: "SMS" });
    await harness.settle();
    const tasks = harness.salesforce.state.records("Task");
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ WhoId: leadId, Subject: "SMS from Jane Doe" });
    expect(leadId.startsWith("00Q")).toBe(true);
    expect(harness.salesforce.state.records("Contact")).toHaveLength(0);
  });

  it("daily-digest: one Task per conversation and day, its Description rewritten as messages arrive", async () => {
    harness = await startHarness({ route: { activities: "daily-digest" } });
    const { linq, linqSimulator, salesforce } = harness;
    const janeId = createJane(harness);
    const { chat } = await linqSimulator.inbound.text({ from: JANE, text: "First" });
    await harness.settle();
    await linq.sendMessage(chat.id, { text: "Second" });
    await harness.settle();
    await linqSimulator.inbound.text({ from: JANE, text: "Third" });
    await harness.settle();
    const tasks = salesforce.state.records("Task");
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      WhoId: janeId,
      Subject: "iMessage conversation with Jane Doe",
      Status: "Completed",
      TaskSubtype: "Task",
    });
    const description = String(tasks[0]?.Description);
    expect(description).toContain("3 messages");
    expect(description).toMatch(/← customer \(iMessage\): First\n.*→ us \(iMessage\): Second\n.*Third/);
    const updates = salesforce.requests.filter(
      (request) => request.method === "PATCH" && /\/sobjects\/Task\//.test(request.path),
    );
    expect(updates).toHaveLength(2);
    expect(harness.store.all(DIGEST_MAPPING)).toHaveLength(1);
    expect(harness.store.all(TASK_MAPPING)).toHaveLength(3);
    // A replay neither adds a line nor a Task.
    await harness.connector.handleEvent(lastEvent(harness, "message.received"), harness.context());
    expect(salesforce.state.records("Task")).toHaveLength(1);
    expect(salesforce.state.records("Task")[0]?.Description).toBe(description);
  });

  it("daily-digest: a digest Task deleted in Salesforce starts again", async () => {
    harness = await startHarness({ route: { activities: "daily-digest" } });
    const { linqSimulator, salesforce } = harness;
    createJane(harness);
    await linqSimulator.inbound.text({ from: JANE, text: "First" });
    await harness.settle();
    const [first] = salesforce.state.records("Task");
    salesforce.users.delete("Task", first?.Id ?? "");
    await linqSimulator.inbound.text({ from: JANE, text: "Second" });
    await harness.settle();
    const tasks = salesforce.state.records("Task");
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.Id).not.toBe(first?.Id);
    expect(tasks[0]?.Description).toContain("Second");
  });

  it("logs call.completed as a call Task with type, duration, recording and transcript", async () => {
    harness = await startHarness();
    const owner = harness.salesforce.users.list()[0];
    harness.route.settings.ownerId = owner?.id;
    const janeId = createJane(harness);
    await harness.linqSimulator.inbound.call({
      from: JANE,
      durationSeconds: 330,
      recording: { transcription: "Hi, I'm calling about my order.", summary: "Order question" },
    });
    await harness.settle();
    const tasks = harness.salesforce.state.records("Task");
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      WhoId: janeId,
      Subject: "Inbound call from Jane Doe",
      Status: "Completed",
      TaskSubtype: "Call",
      CallType: "Inbound",
      CallDurationInSeconds: 330,
      OwnerId: owner?.id,
    });
    const description = String(tasks[0]?.Description);
    expect(description).toContain(
      "Inbound call from Jane Doe ((555) 123-4567) to Linq number (555) 000-1111",
    );
    expect(description).toMatch(/Recording: https?:\/\//);
    expect(description).toContain("Summary:\nOrder question");
    expect(description).toContain("Transcript:\nHi, I'm calling about my order.");
    // Replayed: still one Task.
    await harness.connector.handleEvent(lastEvent(harness, "call.completed"), harness.context());
    expect(harness.salesforce.state.records("Task")).toHaveLength(1);
    expect(harness.store.all(CALL_MAPPING)).toHaveLength(1);
  });

  it("logs an outbound call, and finds it by CallObject when the create's answer was lost", async () => {
    harness = await startHarness({ linqWebhooks: false });
    const { salesforce } = harness;
    const janeId = createJane(harness);
    salesforce.faults.inject({
      kind: "drop-after-processing",
      match: { method: "POST", path: /\/sobjects\/Task$/ },
      times: 1,
    });
    harness.dispatch(
      linqEvent("call.completed", {
        id: 77,
        direction: "outbound",
        from: "+15550001111",
        to: "555-123-4567",
        status: "no-answer",
        duration: 0,
        start_time: "2026-01-15T23:30:00Z",
      }),
    );
    await harness.settle();
    const tasks = salesforce.state.records("Task");
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      WhoId: janeId,
      Subject: "Outbound call to Jane Doe",
      TaskSubtype: "Call",
      CallType: "Outbound",
      CallDurationInSeconds: 0,
      CallDisposition: "no-answer",
      CallObject: "linq:77",
      ActivityDate: "2026-01-15",
    });
    expect(harness.store.all(CALL_MAPPING)[0]?.externalId).toBe(tasks[0]?.Id);
  });

  it("matches again when the mapped Contact was deleted in Salesforce", async () => {
    let now = Date.now();
    harness = await startHarness({ linqWebhooks: false, connector: { now: () => new Date(now) } });
    const { salesforce, connector } = harness;
    const message = (id: number) =>
      linqEvent("message.received", {
        id,
        chat_id: 7,
        text: `Message ${id}`,
        from_phone: JANE,
        service: "SMS",
        sent_at: new Date().toISOString(),
        chat_handles: [
          { identifier: JANE, is_me: false },
          { identifier: "+15550001111", is_me: true },
        ],
      });
    const liveContact = () => {
      const contacts = salesforce.state.records("Contact");
      expect(contacts).toHaveLength(1);
      return contacts[0]?.Id;
    };
    await connector.handleEvent(message(1), harness.context());
    const first = liveContact();
    expect(salesforce.state.records("Task")[0]?.WhoId).toBe(first);
    // Deleted (with its Tasks) while its Name is cached: Salesforce refuses the WhoId of the create.
    salesforce.users.delete("Contact", first ?? "");
    await connector.handleEvent(message(2), harness.context());
    const second = liveContact();
    expect(second).not.toBe(first);
    expect(salesforce.state.records("Task")).toMatchObject([{ WhoId: second }]);
    expect(salesforce.state.records("Task")[0]?.Description).toContain("Message 2");
    // Deleted once the cache has expired: reading its Name finds it gone, before any create.
    salesforce.users.delete("Contact", second ?? "");
    now += 600_000;
    await connector.handleEvent(message(3), harness.context());
    const third = liveContact();
    expect(third).not.toBe(second);
    expect(salesforce.state.records("Task")).toMatchObject([{ WhoId: third }]);
    const reasons = harness.logs.map((entry) => entry.message);
    expect(reasons).toContain("Salesforce refused the Task's WhoId: matching the handle again");
    expect(reasons).toContain("the mapped Salesforce record no longer exists: matching the handle again");
  });

  it("logs nothing when the route's activities are off", async () => {
    harness = await startHarness({ route: { activities: "off" } });
    createJane(harness);
    await harness.linqSimulator.inbound.text({ from: JANE, text: "Hello" });
    await harness.linqSimulator.inbound.call({ from: JANE, durationSeconds: 5 });
    await harness.settle();
    expect(harness.salesforce.state.records("Task")).toHaveLength(0);
    expect(harness.store.all(TASK_MAPPING)).toHaveLength(0);
  });
});
