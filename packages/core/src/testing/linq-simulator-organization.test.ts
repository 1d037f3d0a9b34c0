import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, createChat } from "./linq-simulator.test-helpers.ts";
import { startLinqSimulator } from "./linq-simulator.ts";
import type { LinqSimulator } from "./simulator-types.ts";

describe("Linq simulator: contacts, phone numbers, webhook subscriptions, utilities", () => {
  let simulator: LinqSimulator;

  beforeAll(async () => {
    simulator = await startLinqSimulator({
      organizationUsers: [
        { email: "owner@company.com", first_name: "Jane", last_name: "Owner" },
        { email: "rep@company.com", first_name: "Rick", last_name: "Rep" },
      ],
      handles: { "+15553330000": "SMS" },
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  describe("contacts (StandardError format)", () => {
    it("creates a contact (201) owned by the first admin, normalising the phone number", async () => {
      const response = await callApi(simulator, "POST", "/contacts", {
        body: {
          contact: {
            first_name: "John",
            last_name: "Doe",
            email: "john@example.com",
            phone_number: "(555) 123-4567",
          },
        },
      });
      expect(response.status).toBe(201);
      expect(response.body.data).toMatchObject({
        first_name: "John",
        last_name: "Doe",
        full_name: "John Doe",
        email: "john@example.com",
        phone_number: "+15551234567",
        company: null,
        image_url: null,
        contact_owner: {
          email: "owner@company.com",
          first_name: "Jane",
          last_name: "Owner",
          name: "Jane Owner",
        },
      });
      expect(Number.isInteger(response.body.data.id)).toBe(true);
    });

    it("assigns the owner from user_email and rejects an unknown user (422)", async () => {
      const owned = await callApi(simulator, "POST", "/contacts", {
        body: { contact: { first_name: "Ann" }, user_email: "rep@company.com" },
      });
      expect(owned.body.data.contact_owner.email).toBe("rep@company.com");
      const unknown = await callApi(simulator, "POST", "/contacts", {
        body: { contact: { first_name: "Ann" }, user_email: "nobody@company.com" },
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body).toEqual({
        status: "422",
        error_code: "validation_error",
        message: "User not found: nobody@company.com",
        errors: ["User not found: nobody@company.com"],
      });
    });

    it("requires one of first_name, last_name, email, phone_number (422) and validates the body", async () => {
      const none = await callApi(simulator, "POST", "/contacts", { body: { contact: { company: "Acme" } } });
      expect(none.status).toBe(422);
      expect(none.body.status).toBe("422");
      expect(none.body.errors[0]).toMatch(/At least one of first_name/);
      const missing = await callApi(simulator, "POST", "/contacts", { body: { first_name: "top-level" } });
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ status: "400", error_code: "bad_request" });
      expect(missing.body.errors).toContain("Missing required parameter: contact");
      const unknown = await callApi(simulator, "POST", "/contacts", {
        body: { contact: { first_name: "A", nickname: "B" } },
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body.errors).toEqual(["Unknown parameter: contact.nickname"]);
      const badEmail = await callApi(simulator, "POST", "/contacts", {
        body: { contact: { email: "not-an-email" } },
      });
      expect(badEmail.status).toBe(422);
      expect(simulator.state.contacts()).toEqual([]);
    });

    it("gets, updates (PUT and PATCH), and deletes (204) a contact; unknown ids are 404", async () => {
      const created = await callApi(simulator, "POST", "/contacts", {
        body: { contact: { first_name: "John" } },
      });
      const id = created.body.data.id;
      expect((await callApi(simulator, "GET", `/contacts/${id}`)).body.data.first_name).toBe("John");
      const put = await callApi(simulator, "PUT", `/contacts/${id}`, {
        body: { contact: { last_name: "Doe", company: "Acme" }, user_email: "rep@company.com" },
      });
      expect(put.status).toBe(200);
      expect(put.body.data).toMatchObject({
        first_name: "John",
        last_name: "Doe",
        company: "Acme",
        full_name: "John Doe",
      });
      expect(put.body.data.contact_owner.email).toBe("rep@company.com");
      const patch = await callApi(simulator, "PATCH", `/contacts/${id}`, {
        body: { contact: { email: "JOHN@example.com" } },
      });
      expect(patch.body.data).toMatchObject({ email: "JOHN@example.com", last_name: "Doe" });
      const onlyCompany = await callApi(simulator, "PATCH", `/contacts/${id}`, {
        body: { contact: { company: "Other" } },
      });
      expect(onlyCompany.status).toBe(422);
      const deleted = await callApi(simulator, "DELETE", `/contacts/${id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBeNull();
      const missing = await callApi(simulator, "GET", `/contacts/${id}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({
        status: "404",
        error_code: "not_found",
        message: "Contact not found",
        errors: ["Contact not found"],
      });
      expect((await callApi(simulator, "DELETE", `/contacts/${id}`)).status).toBe(404);
      expect(
        (await callApi(simulator, "PUT", "/contacts/1", { body: { contact: { first_name: "x" } } })).status,
      ).toBe(404);
    });

    it("lists contacts with the contacts/pagination envelope", async () => {
      for (const name of ["A", "B", "C"])
        await callApi(simulator, "POST", "/contacts", { body: { contact: { first_name: name } } });
      const response = await callApi(simulator, "GET", "/contacts?per_page=2&page=2");
      expect(response.status).toBe(200);
      expect(response.body.pagination).toEqual({
        current_page: 2,
        per_page: 2,
        total_pages: 2,
        total_count: 3,
      });
      expect(response.body.contacts.map((contact: { first_name: string }) => contact.first_name)).toEqual([
        "C",
      ]);
      const tooMany = await callApi(simulator, "GET", "/contacts?per_page=1000");
      expect(tooMany.status).toBe(422);
      expect(tooMany.body.error_code).toBe("validation_error");
    });

    it("finds a contact by email OR normalised phone number, or answers {contact: null}", async () => {
      const created = await callApi(simulator, "POST", "/contacts", {
        body: { contact: { first_name: "John", email: "john@example.com", phone_number: "+15551234567" } },
      });
      const byPhone = await callApi(simulator, "GET", "/contacts/find?phone_number=555-123-4567");
      expect(byPhone.status).toBe(200);
      expect(byPhone.body.id).toBe(created.body.data.id);
      const either = await callApi(
        simulator,
        "GET",
        "/contacts/find?email=JOHN%40example.com&phone_number=5559999999",
      );
      expect(either.body.id).toBe(created.body.data.id);
      const none = await callApi(simulator, "GET", "/contacts/find?email=nobody%40example.com");
      expect(none.body).toEqual({ contact: null });
      const noParameters = await callApi(simulator, "GET", "/contacts/find");
      expect(noParameters.status).toBe(400);
      expect(noParameters.body.status).toBe("400");
      const invalid = await callApi(simulator, "GET", "/contacts/find?email=broken");
      expect(invalid.status).toBe(422);
    });

    it("names chat participants after contacts", async () => {
      await callApi(simulator, "POST", "/contacts", {
        body: { contact: { first_name: "John", last_name: "Doe", phone_number: "+15551234567" } },
      });
      const chat = await createChat(simulator, "+15551234567");
      expect(chat.display_name).toBe("John Doe");
    });
  });

  describe("phone numbers (Error format)", () => {
    it("lists the organisation's numbers without a data wrapper", async () => {
      const response = await callApi(simulator, "GET", "/phone_numbers");
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        phone_numbers: [
          {
            id: 1,
            phone_number: "+15550001111",
            forwarding_number: null,
            response_rate: 75,
            user: { id: 100, name: "Jane Owner", email: "owner@company.com" },
          },
        ],
      });
    });

    it("updates the forwarding number (bare PhoneNumber), clears it with an empty string, 403s for another org's number", async () => {
      const updated = await callApi(simulator, "PUT", "/phone_numbers/1", {
        body: { forwarding_number: "5559990000" },
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        id: 1,
        phone_number: "+15550001111",
        forwarding_number: "+15559990000",
      });
      const cleared = await callApi(simulator, "PUT", "/phone_numbers/1", {
        body: { forwarding_number: "" },
      });
      expect(cleared.body.forwarding_number).toBeNull();
      const foreign = await callApi(simulator, "PUT", "/phone_numbers/777", {
        body: { forwarding_number: "5559990000" },
      });
      expect(foreign.status).toBe(403);
      expect(foreign.body.errors[0]).toMatchObject({ status: 403, code: "forbidden" });
      const invalid = await callApi(simulator, "PUT", "/phone_numbers/1", {
        body: { forwarding_number: "call me" },
      });
      expect(invalid.status).toBe(422);
      expect(invalid.body.errors[0].code).toBe("invalid_params");
    });
  });

  describe("webhook subscriptions (StandardError format)", () => {
    it("creates (201), lists, updates and deletes (204) subscriptions without ever returning the secret", async () => {
      const created = await callApi(simulator, "POST", "/webhook_subscriptions", {
        body: {
          webhook_subscription: {
            webhook_url: "https://example.com/hook",
            events: ["message.received", "message.sent"],
            version: 2,
            secret: "s3cret",
          },
        },
      });
      expect(created.status).toBe(201);
      const subscription = created.body.webhook_subscription;
      expect(subscription).toMatchObject({
        webhook_url: "https://example.com/hook",
        events: ["message.received", "message.sent"],
        version: 2,
        active: true,
        secret_configured: true,
        last_delivered_at: null,
        delivery_attempts: 0,
      });
      expect(JSON.stringify(created.body)).not.toContain("s3cret");
      expect(JSON.stringify(simulator.requests.at(-1)?.body)).not.toContain("s3cret");

      const listed = await callApi(simulator, "GET", "/webhook_subscriptions");
      expect(listed.body).toEqual({ webhook_subscriptions: [subscription] });

      const updated = await callApi(simulator, "PUT", `/webhook_subscriptions/${subscription.id}`, {
        body: {
          webhook_subscription: {
            webhook_url: "https://example.com/other",
            events: ["contact.created"],
            version: 2,
            active: false,
          },
        },
      });
      expect(updated.status).toBe(200);
      expect(updated.body.webhook_subscription).toMatchObject({
        webhook_url: "https://example.com/other",
        events: ["contact.created"],
        active: false,
        secret_configured: true,
      });

      expect((await callApi(simulator, "DELETE", `/webhook_subscriptions/${subscription.id}`)).status).toBe(
        204,
      );
      expect(simulator.state.subscriptions()).toEqual([]);
      const missing = await callApi(simulator, "DELETE", `/webhook_subscriptions/${subscription.id}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ status: "404", error_code: "not_found" });
    });

    it("accepts the quick-start bare body", async () => {
      const response = await callApi(simulator, "POST", "/webhook_subscriptions", {
        body: {
          webhook_url: "https://your-app.com/webhooks/linq",
          events: ["message.received"],
          version: 2,
          active: true,
        },
      });
      expect(response.status).toBe(201);
      expect(response.body.webhook_subscription.secret_configured).toBe(false);
    });

    it("validates events, version and URL with 422 in the StandardError format", async () => {
      const badEvent = await callApi(simulator, "POST", "/webhook_subscriptions", {
        body: {
          webhook_subscription: {
            webhook_url: "https://example.com/hook",
            events: ["message.exploded"],
            version: 2,
          },
        },
      });
      expect(badEvent.status).toBe(422);
      expect(badEvent.body).toMatchObject({ status: "422", error_code: "validation_error" });
      expect(badEvent.body.errors[0]).toMatch(/events\[0\] must be one of/);
      const missingVersion = await callApi(simulator, "POST", "/webhook_subscriptions", {
        body: { webhook_subscription: { webhook_url: "https://example.com/hook", events: ["message.sent"] } },
      });
      expect(missingVersion.status).toBe(400);
      expect(missingVersion.body.errors).toEqual([
        "Missing required parameter: webhook_subscription.version",
      ]);
      const rules = await callApi(simulator, "POST", "/webhook_subscriptions", {
        body: { webhook_subscription: { webhook_url: "not a url", events: [], version: 1 } },
      });
      expect(rules.status).toBe(422);
      expect(rules.body.errors).toEqual([
        "Webhook url must be an absolute http(s) URL",
        "Version must be 2",
        "Events can't be blank",
      ]);
    });
  });

  describe("iMessage availability and rate limits", () => {
    it("checks availability, limited to one request per interval (429 + Retry-After)", async () => {
      let now = new Date("2025-05-21T15:30:00.000Z");
      const clocked = await startLinqSimulator({ now: () => now, handles: { "+15553330000": "SMS" } });
      try {
        const first = await callApi(clocked, "POST", "/i_message_availability/check", {
          body: { phone_number: "5551234567" },
        });
        expect(first.status).toBe(200);
        expect(first.body).toEqual({ available: true, phone_number: "+15551234567" });
        now = new Date(now.getTime() + 4_000);
        const limited = await callApi(clocked, "POST", "/i_message_availability/check", {
          body: { phone_number: "5551234567" },
        });
        expect(limited.status).toBe(429);
        expect(limited.headers.get("retry-after")).toBe("6");
        expect(limited.body.errors[0]).toMatchObject({ status: 429, code: "rate_limited" });
        now = new Date(now.getTime() + 6_000);
        const sms = await callApi(clocked, "POST", "/i_message_availability/check", {
          body: { phone_number: "+15553330000" },
        });
        expect(sms.body).toEqual({ available: false, phone_number: "+15553330000" });
      } finally {
        await clocked.close();
      }
    });

    it("validates the availability body", async () => {
      const fast = await startLinqSimulator({ iMessageAvailabilityIntervalMs: 0 });
      try {
        expect((await callApi(fast, "POST", "/i_message_availability/check", { body: {} })).status).toBe(400);
        expect(
          (await callApi(fast, "POST", "/i_message_availability/check", { body: { phone_number: "x" } }))
            .status,
        ).toBe(422);
      } finally {
        await fast.close();
      }
    });

    it("applies the optional general per-token rate limit", async () => {
      let now = new Date("2025-05-21T15:30:00.000Z");
      const limited = await startLinqSimulator({
        now: () => now,
        rateLimit: { requestsPerSecond: 1, burst: 2 },
      });
      try {
        expect((await callApi(limited, "GET", "/phone_numbers")).status).toBe(200);
        expect((await callApi(limited, "GET", "/phone_numbers")).status).toBe(200);
        const third = await callApi(limited, "GET", "/phone_numbers");
        expect(third.status).toBe(429);
        expect(third.headers.get("retry-after")).toBe("1");
        now = new Date(now.getTime() + 1_000);
        expect((await callApi(limited, "GET", "/phone_numbers")).status).toBe(200);
      } finally {
        await limited.close();
      }
    });
  });
});
