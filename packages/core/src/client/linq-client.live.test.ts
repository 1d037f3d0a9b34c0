// Live tests against the real Linq Partner API. They run only when LINQ_API_TOKEN is set
// (users with an account); CI and everyone else skip them.
//   LINQ_API_TOKEN          required
//   LINQ_API_BASE_URL       optional (default https://api.linqapp.com)
//   LINQ_LIVE_TO_NUMBER     optional: when set, one real message is sent to this number
import { describe, expect, it } from "vitest";
import { LinqClient } from "./linq-client.ts";

const token = process.env.LINQ_API_TOKEN;
const toNumber = process.env.LINQ_LIVE_TO_NUMBER;

describe.skipIf(token === undefined || token === "")("Linq Partner API (live)", () => {
  const client = () => new LinqClient({ token: token ?? "", baseUrl: process.env.LINQ_API_BASE_URL });

  it("lists the organisation's phone numbers, subscriptions and contacts", async () => {
    const linq = client();
    try {
      const numbers = await linq.listPhoneNumbers();
      expect(numbers.length).toBeGreaterThan(0);
      expect(numbers[0]?.phone_number).toMatch(/^\+\d+$/);
      expect(Array.isArray(await linq.listWebhookSubscriptions())).toBe(true);
      const contacts = await linq.listContacts({ perPage: 5 });
      expect(contacts.pagination.page).toBe(1);
      const chats = await linq.listChats({ phoneNumber: numbers[0]?.phone_number ?? "", perPage: 5 });
      expect(Array.isArray(chats.items)).toBe(true);
    } finally {
      await linq.close();
    }
  });

  it.skipIf(toNumber === undefined)("sends one message idempotently", async () => {
    const linq = client();
    try {
      const [from] = await linq.listPhoneNumbers();
      const { chat } = await linq.createChat({
        sendFrom: from?.phone_number ?? "",
        phoneNumbers: [toNumber ?? ""],
        message: { text: "linq-connect live test" },
      });
      if (chat.id === undefined) throw new Error("create chat returned no id");
      const key = `linq-connect-live-${Date.now()}`;
      const first = await linq.sendMessage(chat.id, {
        text: "linq-connect live test (idempotent)",
        idempotencyKey: key,
      });
      const second = await linq.sendMessage(chat.id, {
        text: "linq-connect live test (idempotent)",
        idempotencyKey: key,
      });
      expect(second.id).toBe(first.id);
    } finally {
      await linq.close();
    }
  });
});
