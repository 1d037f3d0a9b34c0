import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError, InvalidPhoneNumberError, NotFoundError } from "../errors.ts";
import { linqOperations } from "../generated/operations.generated.ts";
import { callApi, createChat } from "./linq-simulator.test-helpers.ts";
import { startLinqSimulator } from "./linq-simulator.ts";
import type { LinqSimulator } from "./simulator-types.ts";

describe("Linq simulator: the inbound (other side) API and routing", () => {
  let simulator: LinqSimulator;

  beforeAll(async () => {
    simulator = await startLinqSimulator({ phoneNumbers: ["+15550001111", "+15550002222"] });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("serves all 29 documented operations (none answers 'No route matches')", async () => {
    const operations = Object.values(linqOperations);
    expect(operations).toHaveLength(29);
    for (const operation of operations) {
      const path = operation.path.replace(/\{[a-z_]+\}/g, "1").replace("/api/partner/v2", "");
      const response = await callApi(
        simulator,
        operation.method,
        path,
        operation.requestContentType === undefined ? {} : { body: {} },
      );
      expect(response.status, `${operation.method} ${operation.path}`).not.toBe(401);
      const detail = JSON.stringify(response.body ?? "");
      expect(detail, `${operation.method} ${operation.path}`).not.toContain("No route matches");
    }
  });

  it("text() finds or creates the 1:1 chat with any phone format, on the default or a given Linq number", async () => {
    const first = await simulator.inbound.text({ from: "(555) 123-4567", text: "one" });
    const second = await simulator.inbound.text({ from: "+15551234567", text: "two" });
    expect(second.chat.id).toBe(first.chat.id);
    expect(second.chat.message_count).toBe(2);
    expect(first.message).toMatchObject({
      sent_from: "+15551234567",
      delivery_status: "delivered",
      is_read: false,
    });
    const other = await simulator.inbound.text({
      from: "+15551234567",
      to: "5550002222",
      text: "other line",
    });
    expect(other.chat.id).not.toBe(first.chat.id);
    // An API create for the same participants finds the inbound chat.
    const created = await createChat(simulator, "+15551234567", "reply");
    expect(created.id).toBe(first.chat.id);
    expect(created.chat_messages).toBeNull();
  });

  it("text() remembers the sender's service", async () => {
    const { chat } = await simulator.inbound.text({ from: "+15551234567", text: "sms", service: "SMS" });
    expect(chat.service).toBe("SMS");
    expect(simulator.state.chat(chat.id)?.chat_handles[0]?.service).toBe("SMS");
  });

  it("groupText() creates a group chat with every participant", async () => {
    const { chat, message } = await simulator.inbound.groupText({
      from: "+15551234567",
      participants: ["+15559876543"],
      text: "group hello",
    });
    expect(chat.group).toBe(true);
    expect(chat.chat_handles.map((handle) => handle.phone_number).sort()).toEqual([
      "+15550001111",
      "+15551234567",
      "+15559876543",
    ]);
    expect(message.sent_from).toBe("+15551234567");
  });

  it("read() marks our messages read up to the given one", async () => {
    const chat = await createChat(simulator, "+15551234567", "first");
    const second = await callApi(simulator, "POST", `/chats/${chat.id}/chat_messages`, {
      body: { text: "second" },
    });
    await callApi(simulator, "POST", `/chats/${chat.id}/chat_messages`, { body: { text: "third" } });
    await simulator.inbound.read({ chatId: chat.id, messageId: second.body.data.id });
    expect(simulator.state.messages(chat.id).map((message) => message.is_read)).toEqual([true, true, false]);
  });

  it("react() adds and removes participant reactions", async () => {
    const chat = await createChat(simulator, "+15551234567", "react to me");
    const reaction = await simulator.inbound.react({
      messageId: chat.chat_messages!.id,
      from: "+15551234567",
      reaction: "laugh",
    });
    expect(reaction).toMatchObject({ is_from_me: false, from_phone: "+15551234567", reaction: "laugh" });
    expect(simulator.state.reactions(chat.chat_messages!.id)).toHaveLength(1);
    await simulator.inbound.react({
      messageId: chat.chat_messages!.id,
      from: "+15551234567",
      reaction: "laugh",
      operation: "remove",
    });
    expect(simulator.state.reactions(chat.chat_messages!.id)).toHaveLength(0);
  });

  it("typing() tracks who is typing; a received message ends it", async () => {
    const { chat } = await simulator.inbound.text({ from: "+15551234567", text: "hi" });
    await simulator.inbound.typing({ chatId: chat.id, from: "+15551234567", display: true });
    expect(simulator.state.typing(chat.id)).toEqual({ me: false, participants: ["+15551234567"] });
    await simulator.inbound.text({ from: "+15551234567", text: "done" });
    expect(simulator.state.typing(chat.id)?.participants).toEqual([]);
  });

  it("deliveryStatus() changes what the REST message reports", async () => {
    const chat = await createChat(simulator, "+15551234567", "status");
    await simulator.inbound.deliveryStatus({
      messageId: chat.chat_messages!.id,
      status: "service_unavailable",
    });
    const response = await callApi(
      simulator,
      "GET",
      `/chats/${chat.id}/chat_messages/${chat.chat_messages!.id}`,
    );
    expect(response.body.data).toMatchObject({ delivery_status: "service_unavailable", delivered_at: null });
  });

  it("call() records the call with defaults and an optional recording", async () => {
    const call = await simulator.inbound.call({ from: "555-123-4567", voicemail: true, durationSeconds: 12 });
    expect(call).toMatchObject({
      from: "+15551234567",
      to: "+15550001111",
      direction: "inbound",
      duration: 12,
      voicemail: true,
      answered_by: null,
      has_recording: false,
      recording_data: null,
    });
    expect(simulator.state.calls()).toEqual([call]);
  });

  it("participants can be added and removed; the chat becomes a group", async () => {
    const chat = await createChat(simulator, "+15551234567", "hi");
    await simulator.inbound.addParticipant({ chatId: chat.id, phoneNumber: "+15559876543" });
    expect(simulator.state.chat(chat.id)?.group).toBe(true);
    await simulator.inbound.removeParticipant({ chatId: chat.id, phoneNumber: "+15559876543" });
    expect(simulator.state.chat(chat.id)?.group).toBe(false);
  });

  it("rejects misuse with typed errors", async () => {
    await expect(simulator.inbound.text({ from: "not a phone", text: "x" })).rejects.toBeInstanceOf(
      InvalidPhoneNumberError,
    );
    await expect(
      simulator.inbound.text({ from: "+15551234567", to: "+15557770000", text: "x" }),
    ).rejects.toBeInstanceOf(ConfigurationError);
    await expect(simulator.inbound.read({ chatId: 1 })).rejects.toBeInstanceOf(NotFoundError);
    const { chat } = await simulator.inbound.text({ from: "+15551234567", text: "x" });
    await expect(
      simulator.inbound.typing({ chatId: chat.id, from: "+15559999999", display: true }),
    ).rejects.toBeInstanceOf(ConfigurationError);
    await expect(
      simulator.inbound.addParticipant({ chatId: chat.id, phoneNumber: "+15551234567" }),
    ).rejects.toBeInstanceOf(ConfigurationError);
    await expect(
      simulator.inbound.react({ messageId: 1, from: "+15551234567", reaction: "like" }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it("the state view returns copies that cannot change the simulator", async () => {
    const { chat } = await simulator.inbound.text({ from: "+15551234567", text: "original" });
    const copy = simulator.state.messages(chat.id);
    if (copy[0] !== undefined) copy[0].text = "mutated";
    expect(simulator.state.messages(chat.id)[0]?.text).toBe("original");
  });
});
