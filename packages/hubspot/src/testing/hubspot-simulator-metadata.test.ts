import type { Client } from "@hubspot/api-client";
import {
  PropertyCreateFieldTypeEnum,
  PropertyCreateTypeEnum,
} from "@hubspot/api-client/lib/codegen/crm/properties/models/PropertyCreate.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, sdkClient, sdkFailure } from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import type { HubSpotSimulator } from "./simulator-types.ts";

describe("HubSpot simulator: owners and properties", () => {
  let simulator: HubSpotSimulator;
  let client: Client;

  beforeAll(async () => {
    simulator = await startHubSpotSimulator({
      rateLimit: false,
      owners: [
        { id: "101", email: "ana@example.com", firstName: "Ana", lastName: "Silva", userId: 501 },
        { id: "102", email: "Ben@Example.com", firstName: "Ben", lastName: "Ode", userId: 502 },
        {
          id: "103",
          email: "cy@example.com",
          firstName: "Cy",
          lastName: "Gone",
          userId: 503,
          archived: true,
        },
      ],
    });
    client = sdkClient(simulator);
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("lists owners, finds one by email (case-insensitive), pages, and keeps deactivated ones apart", async () => {
    const all = await client.crm.owners.ownersApi.getPage();
    expect(all.results.map((owner) => owner.email)).toEqual(["ana@example.com", "Ben@Example.com"]);
    expect(all.results[0]).toMatchObject({
      id: "101",
      firstName: "Ana",
      lastName: "Silva",
      userId: 501,
      userIdIncludingInactive: 501,
      archived: false,
      type: "PERSON",
    });
    const byEmail = await client.crm.owners.ownersApi.getPage("ben@example.com");
    expect(byEmail.results.map((owner) => owner.id)).toEqual(["102"]);
    expect((await client.crm.owners.ownersApi.getPage("nobody@example.com")).results).toEqual([]);
    const firstPage = await client.crm.owners.ownersApi.getPage(undefined, undefined, 1);
    expect(firstPage.results).toHaveLength(1);
    const secondPage = await client.crm.owners.ownersApi.getPage(undefined, firstPage.paging?.next?.after, 1);
    expect(secondPage.results[0]?.id).toBe("102");
    expect(secondPage.paging).toBeUndefined();
    const archived = await client.crm.owners.ownersApi.getPage(undefined, undefined, undefined, true);
    expect(archived.results.map((owner) => owner.id)).toEqual(["103"]);
    expect((await client.crm.owners.ownersApi.getById(102)).email).toBe("Ben@Example.com");
    expect((await client.crm.owners.ownersApi.getById(501, "userId")).id).toBe("101");
    expect((await sdkFailure(client.crm.owners.ownersApi.getById(999))).code).toBe(404);
  });

  it("validates hubspot_owner_id against the active owners", async () => {
    await client.crm.contacts.basicApi.create({ properties: { hubspot_owner_id: "101" } });
    const deactivated = await sdkFailure(
      client.crm.contacts.basicApi.create({ properties: { hubspot_owner_id: "103" } }),
    );
    expect(deactivated.body.errors[0].code).toBe("INVALID_OWNER_ID");
  });

  it("reads the standard contact properties and one by name", async () => {
    const all = await client.crm.properties.coreApi.getAll("contacts");
    const names = all.results.map((property) => property.name);
    for (const name of [
      "firstname",
      "lastname",
      "email",
      "phone",
      "mobilephone",
      "company",
      "jobtitle",
      "city",
      "hubspot_owner_id",
      "lifecyclestage",
      "createdate",
      "lastmodifieddate",
      "hs_object_id",
      "hs_lastmodifieddate",
    ]) {
      expect(names).toContain(name);
    }
    const lifecycle = await client.crm.properties.coreApi.getByName("contacts", "lifecyclestage");
    expect(lifecycle).toMatchObject({ type: "enumeration", fieldType: "radio", hubspotDefined: true });
    expect(lifecycle.options.map((option) => option.value)).toContain("customer");
    const channel = await client.crm.properties.coreApi.getByName(
      "communications",
      "hs_communication_channel_type",
    );
    expect(channel.options.map((option) => option.value)).toEqual([
      "SMS",
      "WHATS_APP",
      "LINKEDIN_MESSAGE",
      "PHYSICAL_MAIL",
      "CUSTOM_CHANNEL_CONVERSATION",
    ]);
    const callStatus = await client.crm.properties.coreApi.getByName("calls", "hs_call_status");
    expect(callStatus.options.map((option) => option.value)).toContain("NO_ANSWER");
    const missing = await sdkFailure(client.crm.properties.coreApi.getByName("contacts", "nope"));
    expect(missing.code).toBe(404);
  });

  it("creates a custom property (201), which contacts can then use; a second create is a 409", async () => {
    const created = await client.crm.properties.coreApi.create("contacts", {
      name: "linq_chat_id",
      label: "Linq chat id",
      type: PropertyCreateTypeEnum.String,
      fieldType: PropertyCreateFieldTypeEnum.Text,
      groupName: "contactinformation",
      hasUniqueValue: true,
    });
    expect(created).toMatchObject({
      name: "linq_chat_id",
      type: "string",
      hasUniqueValue: true,
      archived: false,
    });
    expect(created.hubspotDefined).toBeUndefined();
    expect(simulator.state.properties("contacts").some((property) => property.name === "linq_chat_id")).toBe(
      true,
    );
    const contact = await client.crm.contacts.basicApi.create({ properties: { linq_chat_id: "4242" } });
    // A unique property identifies records with idProperty.
    const found = await client.crm.contacts.basicApi.getById(
      "4242",
      ["linq_chat_id"],
      undefined,
      undefined,
      false,
      "linq_chat_id",
    );
    expect(found.id).toBe(contact.id);
    const again = await sdkFailure(
      client.crm.properties.coreApi.create("contacts", {
        name: "linq_chat_id",
        label: "Again",
        type: PropertyCreateTypeEnum.String,
        fieldType: PropertyCreateFieldTypeEnum.Text,
        groupName: "contactinformation",
      }),
    );
    expect(again.code).toBe(409);
    expect(again.body).toMatchObject({
      message: "Property named 'linq_chat_id' already exists.",
      category: "OBJECT_ALREADY_EXISTS",
    });
  });

  it("validates property definitions and enumeration values", async () => {
    await client.crm.properties.coreApi.create("contacts", {
      name: "linq_service",
      label: "Linq service",
      type: PropertyCreateTypeEnum.Enumeration,
      fieldType: PropertyCreateFieldTypeEnum.Select,
      groupName: "contactinformation",
      options: [
        { label: "iMessage", value: "imessage", hidden: false, displayOrder: 0 },
        { label: "SMS", value: "sms", hidden: false, displayOrder: 1 },
      ],
    });
    expect(
      (await client.crm.contacts.basicApi.create({ properties: { linq_service: "sms" } })).properties
        .linq_service,
    ).toBe("sms");
    const wrongOption = await sdkFailure(
      client.crm.contacts.basicApi.create({ properties: { linq_service: "RCS" } }),
    );
    expect(wrongOption.body.errors[0].code).toBe("INVALID_OPTION");
    const badName = await callApi(simulator, "POST", "/crm/v3/properties/contacts", {
      body: {
        name: "Bad Name",
        label: "x",
        type: "string",
        fieldType: "text",
        groupName: "contactinformation",
      },
    });
    expect(badName.status).toBe(400);
    const badField = await callApi(simulator, "POST", "/crm/v3/properties/contacts", {
      body: {
        name: "ok_name",
        label: "x",
        type: "number",
        fieldType: "text",
        groupName: "contactinformation",
      },
    });
    expect(badField.status).toBe(400);
    const badGroup = await callApi(simulator, "POST", "/crm/v3/properties/contacts", {
      body: { name: "ok_name", label: "x", type: "string", fieldType: "text", groupName: "nowhere" },
    });
    expect(badGroup.status).toBe(400);
    const missingType = await callApi(simulator, "POST", "/crm/v3/properties/contacts", {
      body: { name: "ok_name", label: "x", fieldType: "text", groupName: "contactinformation" },
    });
    expect(missingType.status).toBe(400);
    expect(missingType.body.message).toContain("some of required attributes are not set [type]");
  });

  it("updates a custom property's label and options, but never HubSpot's own definitions", async () => {
    await client.crm.properties.coreApi.create("contacts", {
      name: "linq_tier",
      label: "Tier",
      type: PropertyCreateTypeEnum.Enumeration,
      fieldType: PropertyCreateFieldTypeEnum.Select,
      groupName: "contactinformation",
      options: [{ label: "Gold", value: "gold", hidden: false, displayOrder: 0 }],
    });
    const updated = await client.crm.properties.coreApi.update("contacts", "linq_tier", {
      label: "Customer tier",
      options: [
        { label: "Gold", value: "gold", hidden: false, displayOrder: 0 },
        { label: "Silver", value: "silver", hidden: false, displayOrder: 1 },
      ],
    });
    expect(updated.label).toBe("Customer tier");
    expect(
      (await client.crm.contacts.basicApi.create({ properties: { linq_tier: "silver" } })).properties
        .linq_tier,
    ).toBe("silver");
    expect(
      (await sdkFailure(client.crm.properties.coreApi.update("contacts", "email", { label: "Mail" }))).code,
    ).toBe(400);
  });

  it("archives custom properties (not HubSpot's), after which they no longer accept values", async () => {
    await client.crm.properties.coreApi.create("contacts", {
      name: "temporary",
      label: "Temporary",
      type: PropertyCreateTypeEnum.String,
      fieldType: PropertyCreateFieldTypeEnum.Text,
      groupName: "contactinformation",
    });
    await client.crm.properties.coreApi.archive("contacts", "temporary");
    const failure = await sdkFailure(client.crm.contacts.basicApi.create({ properties: { temporary: "x" } }));
    expect(failure.body.errors[0].code).toBe("PROPERTY_DOESNT_EXIST");
    expect((await sdkFailure(client.crm.properties.coreApi.archive("contacts", "email"))).code).toBe(400);
    const archived = await client.crm.properties.coreApi.getAll("contacts", true);
    expect(archived.results.map((property) => property.name)).toEqual(["temporary"]);
  });

  it("needs the schema scopes to create properties", async () => {
    const limited = await startHubSpotSimulator({
      scopes: ["crm.objects.contacts.read", "crm.objects.contacts.write"],
    });
    try {
      const limitedClient = sdkClient(limited);
      expect((await limitedClient.crm.properties.coreApi.getAll("contacts")).results.length).toBeGreaterThan(
        0,
      );
      const failure = await sdkFailure(
        limitedClient.crm.properties.coreApi.create("contacts", {
          name: "x_prop",
          label: "X",
          type: PropertyCreateTypeEnum.String,
          fieldType: PropertyCreateFieldTypeEnum.Text,
          groupName: "contactinformation",
        }),
      );
      expect(failure.code).toBe(403);
      expect(failure.body.errors[0].context.requiredGranularScopes).toEqual(["crm.schemas.contacts.write"]);
    } finally {
      await limited.close();
    }
  });
});
