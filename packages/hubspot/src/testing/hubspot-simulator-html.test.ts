import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, sdkClient } from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import type { HubSpotSimulator } from "./simulator-types.ts";

describe("HubSpot simulator: the read-only web page", () => {
  let simulator: HubSpotSimulator;

  beforeAll(async () => {
    simulator = await startHubSpotSimulator({ rateLimit: false });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("lists the contacts without authentication or rate limits, escaping every value", async () => {
    const limited = await startHubSpotSimulator({ rateLimit: { requestsPer10Seconds: 1 } });
    try {
      limited.crm.createContact({ firstname: "<script>alert(1)</script>", email: "x@example.com" });
      limited.crm.createContact({ email: "second@example.com" });
      for (let index = 0; index < 3; index += 1) {
        const page = await callApi(limited, "GET", "/", { token: null });
        expect(page.status).toBe(200);
        expect(page.headers.get("content-type")).toBe("text/html;charset=utf-8");
        expect(page.text).toContain("Contacts (2)");
        expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
        expect(page.text).not.toContain("<script>alert");
        expect(page.text).toContain("second@example.com");
      }
    } finally {
      await limited.close();
    }
  });

  it("shows a contact's properties, company and timeline of communications and calls, newest first", async () => {
    const contact = simulator.crm.createContact({
      firstname: "Jane",
      lastname: "Doe",
      email: "jane@example.com",
    });
    const company = simulator.crm.createCompany({ name: "Acme & Co" });
    simulator.crm.associate({
      fromObjectType: "contacts",
      fromObjectId: contact.id,
      toObjectType: "companies",
      toObjectId: company.id,
    });
    const client = sdkClient(simulator);
    await client.crm.objects.communications.basicApi.create({
      properties: {
        hs_timestamp: "2026-01-15T12:00:00Z",
        hs_communication_channel_type: "SMS",
        hs_communication_logged_from: "CRM",
        hs_communication_body: "Is my order <ready>?",
      },
      associations: [
        {
          to: { id: contact.id },
          types: [{ associationCategory: "HUBSPOT_DEFINED" as never, associationTypeId: 81 }],
        },
      ],
    });
    await client.crm.objects.calls.basicApi.create({
      properties: {
        hs_timestamp: "2026-01-15T13:00:00Z",
        hs_call_direction: "INBOUND",
        hs_call_status: "COMPLETED",
        hs_call_duration: "61000",
        hs_call_title: "Follow-up",
      },
      associations: [
        {
          to: { id: contact.id },
          types: [{ associationCategory: "HUBSPOT_DEFINED" as never, associationTypeId: 194 }],
        },
      ],
    });
    const page = await callApi(simulator, "GET", `/contacts/${contact.id}`, { token: null });
    expect(page.status).toBe(200);
    expect(page.text).toContain("<h1>Jane Doe</h1>");
    expect(page.text).toContain("Acme &amp; Co");
    expect(page.text).toContain("Is my order &lt;ready&gt;?");
    expect(page.text).toContain("Inbound call · Completed · 61 s");
    expect(page.text.indexOf("Follow-up")).toBeLessThan(page.text.indexOf("Is my order"));
    const missing = await callApi(simulator, "GET", "/contacts/424242", { token: null });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("text/html;charset=utf-8");
  });
});
