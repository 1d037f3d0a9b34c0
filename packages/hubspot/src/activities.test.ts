import { afterEach, describe, expect, it } from "vitest";
import { type Harness, linqEvent, startHarness } from "./connector-harness.test-helpers.ts";
import { ACTIVITY_MAPPING, CALL_MAPPING, DIGEST_MAPPING } from "./mappings.ts";

describe("conversations and calls as HubSpot activities", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("logs every received and sent message as a Communication on the contact (per-message)", async () => {
    harness = await startHarness();
    const { linq, hubspot, linqSimulator } = harness;
    await linq.createContact({ contact: { first_name: "Jane", phone_number: "+15551234567" } });
    await harness.settle();
    const [contact] = hubspot.state.contacts();
    const { chat } = await linqSimulator.inbound.text({ from: "+15551234567", text: "Is my <order> ready?" });
    await linq.sendMessage(chat.id, {
      text: "Yes!\nCome by.",
      attachmentUrls: ["https://example.com/receipt.pdf"],
    });
    await harness.settle();
    const communications = hubspot.state.communications();
    expect(communications).toHaveLength(2);
    const [received, sent] = communications;
    expect(received?.properties).toMatchObject({
      hs_communication_channel_type: "SMS",
      hs_communication_logged_from: "CRM",
    });
    expect(received?.properties.hs_communication_body).toContain(
      "iMessage received from (555) 123-4567 to Linq number (555) 000-1111",
    );
    expect(received?.properties.hs_communication_body).toContain("Is my &lt;order&gt; ready?");
    expect(sent?.properties.hs_communication_body).toContain(
      "iMessage sent from Linq number (555) 000-1111 to (555) 123-4567",
    );
    expect(sent?.properties.hs_communication_body).toContain("Yes!<br>Come by.");
    expect(sent?.properties.hs_communication_body).toContain('<a href="https://example.com/receipt.pdf">');
    const messages = linqSimulator.state.messages(chat.id);
    // hs_timestamp is the message time (webhook times have second precision).
    const sentAt = Date.parse(messages[0]?.sent_at ?? "");
    expect(Date.parse(received?.properties.hs_timestamp ?? "")).toBe(Math.floor(sentAt / 1000) * 1000);
    const associated = hubspot.state.associations("contacts", contact?.id ?? "", "communications");
    expect(associated.map((association) => association.toObjectId).sort()).toEqual(
      communications.map((communication) => communication.id).sort(),
    );
    expect(harness.store.all(ACTIVITY_MAPPING)).toHaveLength(2);
  });

  it("never logs a replayed message twice", async () => {
    harness = await startHarness();
    const { hubspot, linqSimulator } = harness;
    await linqSimulator.inbound.text({ from: "+15551234567", text: "Hello" });
    await harness.settle();
    const event = harness.linqEvents.find((entry) => entry.event_type === "message.received");
    if (event === undefined) throw new Error("no event");
    await harness.connector.handleEvent(event, harness.context());
    await Promise.all([
      harness.connector.handleEvent(event, harness.context()),
      harness.connector.handleEvent(event, harness.context()),
    ]);
    expect(hubspot.state.communications()).toHaveLength(1);
  });

  it("creates the contact of an unknown sender first, then logs; or, switched off, logs nothing", async () => {
    harness = await startHarness();
    await harness.linqSimulator.inbound.text({ from: "+15559876543", text: "Who is this?" });
    await harness.settle();
    const [contact] = harness.hubspot.state.contacts();
    expect(contact?.properties.phone).toBe("+15559876543");
    expect(harness.hubspot.state.associations("contacts", contact?.id ?? "", "communications")).toHaveLength(
      1,
    );
    await harness.close();

    harness = await startHarness({ route: { createUnknownContacts: false } });
    await harness.linqSimulator.inbound.text({ from: "+15559876543", text: "Who is this?" });
    await harness.settle();
    expect(harness.hubspot.state.contacts()).toHaveLength(0);
    expect(harness.hubspot.state.communications()).toHaveLength(0);
  });

  it("daily-digest: one Communication per conversation and day, updated as messages arrive", async () => {
    harness = await startHarness({
      route: { activities: "daily-digest", channelType: "WHATS_APP", showServiceInBody: false },
    });
    const { hubspot, linqSimulator, linq } = harness;
    const { chat } = await linqSimulator.inbound.text({ from: "+15551234567", text: "First" });
    await harness.settle();
    await linq.sendMessage(chat.id, { text: "Second" });
    await linqSimulator.inbound.text({ from: "+15551234567", text: "Third" });
    await harness.settle();
    const communications = hubspot.state.communications();
    expect(communications).toHaveLength(1);
    const body = communications[0]?.properties.hs_communication_body ?? "";
    expect(body).toContain("3 messages");
    expect(body.indexOf("First")).toBeLessThan(body.indexOf("Second"));
    expect(body.indexOf("Second")).toBeLessThan(body.indexOf("Third"));
    expect(body).not.toContain("iMessage");
    expect(communications[0]?.properties.hs_communication_channel_type).toBe("WHATS_APP");
    const updates = hubspot.requests.filter(
      (request) => request.method === "PATCH" && request.path.includes("/communications/"),
    );
    expect(updates).toHaveLength(2);
    expect(harness.store.all(DIGEST_MAPPING)).toHaveLength(1);
    expect(harness.store.all(ACTIVITY_MAPPING)).toHaveLength(3);
    // A replay neither duplicates the line nor the Communication.
    const event = harness.linqEvents.find((entry) => entry.event_type === "message.received");
    if (event === undefined) throw new Error("no event");
    await harness.connector.handleEvent(event, harness.context());
    expect(hubspot.state.communications()).toHaveLength(1);
    expect(hubspot.state.communications()[0]?.properties.hs_communication_body).toBe(body);
  });

  it("logs call.completed as a Call engagement with direction, duration, numbers, recording and transcript", async () => {
    harness = await startHarness();
    const { hubspot, linqSimulator } = harness;
    await linqSimulator.inbound.call({
      from: "+15551234567",
      durationSeconds: 330,
      recording: { transcription: "Hi, I'm calling about my order.", summary: "Order question" },
    });
    await harness.settle();
    const calls = hubspot.state.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.properties).toMatchObject({
      hs_call_direction: "INBOUND",
      hs_call_duration: "330000",
      hs_call_from_number: "+15551234567",
      hs_call_to_number: "+15550001111",
      hs_call_status: "COMPLETED",
    });
    expect(calls[0]?.properties.hs_call_recording_url).toMatch(/^https?:\/\//);
    expect(calls[0]?.properties.hs_call_body).toContain("Order question");
    expect(calls[0]?.properties.hs_call_body).toContain("calling about my order");
    const [contact] = hubspot.state.contacts();
    expect(hubspot.state.associations("contacts", contact?.id ?? "", "calls")).toHaveLength(1);
    const event = harness.linqEvents.find((entry) => entry.event_type === "call.completed");
    if (event === undefined) throw new Error("no event");
    await harness.connector.handleEvent(event, harness.context());
    expect(hubspot.state.calls()).toHaveLength(1);
    expect(harness.store.all(CALL_MAPPING)).toHaveLength(1);
  });

  it("associates the contact's primary company when the route asks for it", async () => {
    harness = await startHarness({ route: { associatePrimaryCompany: true } });
    const { hubspot, linqSimulator } = harness;
    const target = hubspot.webhooks.targetUrl;
    hubspot.webhooks.targetUrl = null;
    const contact = hubspot.crm.createContact({ phone: "+15551234567", firstname: "Jane" });
    const company = hubspot.crm.createCompany({ name: "Acme" });
    hubspot.crm.associate({
      fromObjectType: "contacts",
      fromObjectId: contact.id,
      toObjectType: "companies",
      toObjectId: company.id,
      associationTypeId: 1,
    });
    await hubspot.webhooks.flush();
    hubspot.webhooks.targetUrl = target;
    await linqSimulator.inbound.text({ from: "+15551234567", text: "Hello" });
    await harness.settle();
    const [communication] = hubspot.state.communications();
    expect(
      hubspot.state.associations("communications", communication?.id ?? "", "companies")[0]?.toObjectId,
    ).toBe(company.id);
  });

  it("re-matches when a mapped contact was deleted in HubSpot", async () => {
    harness = await startHarness({ linqWebhooks: false });
    const { hubspot, connector } = harness;
    const message = (id: number) =>
      linqEvent("message.received", {
        id,
        chat_id: 7,
        text: `Message ${id}`,
        from_phone: "+15551234567",
        service: "SMS",
        sent_at: new Date().toISOString(),
        chat_handles: [
          { identifier: "+15551234567", is_me: false },
          { identifier: "+15550001111", is_me: true },
        ],
      });
    await connector.handleEvent(message(1), harness.context());
    const [first] = hubspot.state.contacts();
    hubspot.webhooks.targetUrl = null;
    hubspot.crm.deleteContact(first?.id ?? "");
    await connector.handleEvent(message(2), harness.context());
    const live = hubspot.state.contacts();
    expect(live).toHaveLength(1);
    expect(live[0]?.id).not.toBe(first?.id);
    expect(hubspot.state.associations("contacts", live[0]?.id ?? "", "communications")).toHaveLength(1);
  });
});
