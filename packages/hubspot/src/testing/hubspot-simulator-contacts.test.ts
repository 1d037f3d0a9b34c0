import type { Client } from "@hubspot/api-client";
import { ConfigurationError } from "@linq-connect/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, sdkClient, sdkFailure } from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import type { HubSpotSimulator } from "./simulator-types.ts";

describe("HubSpot simulator: contacts", () => {
  let simulator: HubSpotSimulator;
  let client: Client;

  beforeAll(async () => {
    simulator = await startHubSpotSimulator({
      owners: [
        {
          id: "41629779",
          email: "owner@example.com",
          firstName: "Olive",
          lastName: "Owner",
          userId: 9586504,
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

  it("creates a contact: 201, string values, the phone as typed, system properties", async () => {
    const created = await client.crm.contacts.basicApi.create({
      properties: {
        email: "jane@example.com",
        firstname: "Jane",
        phone: "(555) 123-4567",
        hubspot_owner_id: "41629779",
      },
      associations: [],
    });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.archived).toBe(false);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.properties).toMatchObject({
      email: "jane@example.com",
      firstname: "Jane",
      phone: "(555) 123-4567",
      hubspot_owner_id: "41629779",
      hs_object_id: created.id,
      hs_email_domain: "example.com",
    });
    expect(created.properties.createdate).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(simulator.state.contact(created.id)?.properties.phone).toBe("(555) 123-4567");
    expect(simulator.state.contacts()).toHaveLength(1);
  });

  it("stores every value as a string and normalises datetimes to ISO instants", async () => {
    const response = await callApi(simulator, "POST", "/crm/v3/objects/contacts", {
      body: { properties: { firstname: 42, createdate: 1_700_000_000_000, lastname: null } },
    });
    expect(response.status).toBe(201);
    expect(response.body.properties.firstname).toBe("42");
    expect(response.body.properties.createdate).toBe("2023-11-14T22:13:20Z");
    expect(response.body.properties).not.toHaveProperty("lastname");
    expect(response.headers.get("content-type")).toBe("application/json;charset=utf-8");
    expect(response.headers.get("x-hubspot-correlation-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("gets a contact by id with the default properties, or the requested ones (null when unset)", async () => {
    const { id } = await client.crm.contacts.basicApi.create({
      properties: { email: "a@example.com", firstname: "Ann", jobtitle: "CTO" },
    });
    const byDefault = await client.crm.contacts.basicApi.getById(id);
    expect(Object.keys(byDefault.properties).sort()).toEqual([
      "createdate",
      "email",
      "firstname",
      "hs_object_id",
      "lastmodifieddate",
      "lastname",
    ]);
    expect(byDefault.properties.lastname).toBeNull();
    const requested = await client.crm.contacts.basicApi.getById(id, ["jobtitle", "city", "not_a_property"]);
    expect(requested.properties).toEqual({
      city: null,
      createdate: expect.any(String),
      hs_object_id: id,
      jobtitle: "CTO",
      lastmodifieddate: expect.any(String),
    });
    const commaSeparated = await callApi(
      simulator,
      "GET",
      `/crm/v3/objects/contacts/${id}?properties=jobtitle,email`,
    );
    expect(commaSeparated.body.properties).toMatchObject({ jobtitle: "CTO", email: "a@example.com" });
  });

  it("gets and updates a contact by email with idProperty=email (case-insensitive)", async () => {
    const { id } = await client.crm.contacts.basicApi.create({
      properties: { email: "Ann+test@Example.com" },
    });
    const found = await client.crm.contacts.basicApi.getById(
      "ann+test@example.com",
      ["email"],
      undefined,
      undefined,
      false,
      "email",
    );
    expect(found.id).toBe(id);
    const updated = await client.crm.contacts.basicApi.update(
      "ann+test@example.com",
      { properties: { city: "Lisbon" } },
      "email",
    );
    expect(updated.id).toBe(id);
    expect(simulator.state.contact(id)?.properties.city).toBe("Lisbon");
    const missing = await sdkFailure(
      client.crm.contacts.basicApi.getById(
        "nobody@example.com",
        undefined,
        undefined,
        undefined,
        false,
        "email",
      ),
    );
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({ status: "error", category: "OBJECT_NOT_FOUND" });
  });

  it("updates with PATCH: 200, changed values, lastmodifieddate moves, an empty string clears", async () => {
    const created = await client.crm.contacts.basicApi.create({
      properties: { email: "b@example.com", firstname: "Bob", city: "Porto" },
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await client.crm.contacts.basicApi.update(created.id, {
      properties: { firstname: "Robert", city: "" },
    });
    expect(updated.properties.firstname).toBe("Robert");
    expect(updated.properties).not.toHaveProperty("city");
    expect(updated.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
    expect(updated.properties.lastmodifieddate).not.toBe(created.properties.lastmodifieddate);
    expect(simulator.state.contact(created.id)?.properties).not.toHaveProperty("city");
  });

  it("keeps each property's history with who wrote it (propertiesWithHistory)", async () => {
    const { id } = await client.crm.contacts.basicApi.create({ properties: { firstname: "Ann" } });
    simulator.crm.updateContact(id, { firstname: "Anne" }, { userId: 777 });
    const contact = await client.crm.contacts.basicApi.getById(id, ["firstname"], ["firstname", "city"]);
    expect(
      contact.propertiesWithHistory?.firstname?.map((entry) => [
        entry.value,
        entry.sourceType,
        entry.sourceId,
      ]),
    ).toEqual([
      ["Anne", "CRM_UI", "userId:777"],
      ["Ann", "INTEGRATION", String(simulator.appId)],
    ]);
    expect(contact.propertiesWithHistory?.firstname?.[0]?.timestamp).toBeInstanceOf(Date);
    expect(contact.propertiesWithHistory?.city).toEqual([]);
    const tooMany = await sdkFailure(
      client.crm.contacts.batchApi.read({
        inputs: Array.from({ length: 51 }, (_, index) => ({ id: String(index + 1) })),
        properties: [],
        propertiesWithHistory: ["firstname"],
      }),
    );
    expect(tooMany.code).toBe(400);
    expect(tooMany.body.message).toContain("for property histories is 50");
  });

  it("archives with DELETE: 204, then 404 OBJECT_NOT_FOUND, visible with archived=true; a second DELETE is still 204", async () => {
    const { id } = await client.crm.contacts.basicApi.create({ properties: { email: "c@example.com" } });
    await client.crm.contacts.basicApi.archive(id);
    const failure = await sdkFailure(client.crm.contacts.basicApi.getById(id));
    expect(failure.code).toBe(404);
    expect(failure.body).toEqual({
      status: "error",
      message: "Object not found.  objectId are usually numeric.",
      correlationId: expect.any(String),
      context: { id: [id] },
      category: "OBJECT_NOT_FOUND",
    });
    const archived = await client.crm.contacts.basicApi.getById(id, undefined, undefined, undefined, true);
    expect(archived.archived).toBe(true);
    expect(archived.archivedAt).toBeInstanceOf(Date);
    expect((await callApi(simulator, "DELETE", `/crm/v3/objects/contacts/${id}`)).status).toBe(204);
    expect((await callApi(simulator, "DELETE", "/crm/v3/objects/contacts/999999")).status).toBe(204);
    expect(simulator.state.contacts()).toEqual([]);
    expect(simulator.state.contacts({ archived: true }).map((contact) => contact.id)).toEqual([id]);
    // The email of an archived contact is free again.
    await client.crm.contacts.basicApi.create({ properties: { email: "c@example.com" } });
  });

  it("refuses a duplicate email: 409 CONFLICT with the existing id in HubSpot's exact message", async () => {
    const first = await client.crm.contacts.basicApi.create({ properties: { email: "dup@example.com" } });
    const failure = await sdkFailure(
      client.crm.contacts.basicApi.create({ properties: { email: "DUP@example.com", firstname: "Again" } }),
    );
    expect(failure.code).toBe(409);
    expect(failure.body).toEqual({
      status: "error",
      message: `Contact already exists. Existing ID: ${first.id}`,
      correlationId: expect.any(String),
      category: "CONFLICT",
    });
    expect(/Existing ID: (\d+)/.exec(failure.body.message)?.[1]).toBe(first.id);
    const other = await client.crm.contacts.basicApi.create({ properties: { email: "other@example.com" } });
    const onUpdate = await sdkFailure(
      client.crm.contacts.basicApi.update(other.id, { properties: { email: "dup@example.com" } }),
    );
    expect(onUpdate.code).toBe(409);
    expect(onUpdate.body.message).toBe(`Contact already exists. Existing ID: ${first.id}`);
    expect(simulator.state.contacts()).toHaveLength(2);
  });

  it("refuses unknown properties: 400 VALIDATION_ERROR naming PROPERTY_DOESNT_EXIST, nothing created", async () => {
    const failure = await sdkFailure(
      client.crm.contacts.basicApi.create({
        properties: { email: "x@example.com", favourite_colour: "blue" },
      }),
    );
    expect(failure.code).toBe(400);
    expect(failure.body.category).toBe("VALIDATION_ERROR");
    expect(failure.body.message).toMatch(/^Property values were not valid: \[/);
    const embedded = JSON.parse(failure.body.message.slice("Property values were not valid: ".length));
    expect(embedded).toEqual([
      {
        isValid: false,
        message: 'Property "favourite_colour" does not exist',
        error: "PROPERTY_DOESNT_EXIST",
        name: "favourite_colour",
        localizedErrorMessage: 'Property "favourite_colour" does not exist',
        portalId: simulator.portalId,
      },
    ]);
    expect(failure.body.errors).toEqual([
      {
        message: 'Property "favourite_colour" does not exist',
        code: "PROPERTY_DOESNT_EXIST",
        context: { propertyName: ["favourite_colour"] },
      },
    ]);
    expect(simulator.state.contacts()).toEqual([]);
  });

  it("reports every invalid value at once: option, email, read-only, owner", async () => {
    const failure = await sdkFailure(
      client.crm.contacts.basicApi.create({
        properties: {
          lifecyclestage: "banana",
          email: "not-an-email",
          hs_object_id: "5",
          hubspot_owner_id: "123",
        },
      }),
    );
    expect(failure.code).toBe(400);
    const codes = failure.body.errors.map((error: { code: string }) => error.code);
    expect(codes).toEqual(["INVALID_OPTION", "INVALID_EMAIL", "READ_ONLY_VALUE", "INVALID_OWNER_ID"]);
    expect(failure.body.errors[0].message).toMatch(
      /^banana was not one of the allowed options: \[label: "Subscriber"/,
    );
    const valid = await client.crm.contacts.basicApi.create({ properties: { lifecyclestage: "customer" } });
    expect(valid.properties.lifecyclestage).toBe("customer");
  });

  it("lists contacts with limit and after paging", async () => {
    const ids: string[] = [];
    for (const name of ["a", "b", "c"]) {
      ids.push((await client.crm.contacts.basicApi.create({ properties: { firstname: name } })).id);
    }
    const first = await client.crm.contacts.basicApi.getPage(2, undefined, ["firstname"]);
    expect(first.results.map((contact) => contact.properties.firstname)).toEqual(["a", "b"]);
    expect(first.paging?.next?.after).toBe(ids[2]);
    expect(first.paging?.next?.link).toContain(`after=${ids[2]}`);
    const second = await client.crm.contacts.basicApi.getPage(2, first.paging?.next?.after, ["firstname"]);
    expect(second.results.map((contact) => contact.properties.firstname)).toEqual(["c"]);
    expect(second.paging).toBeUndefined();
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contacts?limit=101")).status).toBe(400);
  });

  it("authenticates: 401 INVALID_AUTHENTICATION for a wrong or missing token", async () => {
    const wrong = await sdkFailure(
      sdkClient(simulator, { accessToken: "pat-na1-wrong" }).crm.contacts.basicApi.getPage(),
    );
    expect(wrong.code).toBe(401);
    expect(wrong.body).toEqual({
      status: "error",
      message: expect.stringMatching(/^Authentication credentials not found\./),
      correlationId: expect.any(String),
      category: "INVALID_AUTHENTICATION",
    });
    const missing = await callApi(simulator, "GET", "/crm/v3/objects/contacts", { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("x-hubspot-ratelimit-max")).toBeNull();
  });

  it("checks scopes: 403 MISSING_SCOPES listing the scopes that would do", async () => {
    const limited = await startHubSpotSimulator({ scopes: ["crm.objects.contacts.read"] });
    try {
      const client = sdkClient(limited);
      await client.crm.contacts.basicApi.getPage();
      const failure = await sdkFailure(
        client.crm.contacts.basicApi.create({ properties: { firstname: "No" } }),
      );
      expect(failure.code).toBe(403);
      expect(failure.body).toMatchObject({
        status: "error",
        message: expect.stringMatching(/^This app hasn't been granted all required scopes/),
        category: "MISSING_SCOPES",
        errors: [
          {
            message: "One or more of the following scopes are required.",
            context: { requiredGranularScopes: expect.arrayContaining(["crm.objects.contacts.write"]) },
          },
        ],
        links: { scopes: "https://developers.hubspot.com/scopes" },
      });
      expect((await sdkFailure(client.crm.owners.ownersApi.getPage())).code).toBe(403);
      expect(limited.state.contacts()).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it("answers malformed requests like HubSpot: unknown object type, unknown field, bad JSON, unknown route", async () => {
    const unknownType = await callApi(simulator, "GET", "/crm/v3/objects/widgets");
    expect(unknownType.status).toBe(400);
    expect(unknownType.body).toMatchObject({
      message: "Unable to infer object type from: widgets",
      category: "VALIDATION_ERROR",
    });
    const unknownField = await callApi(simulator, "POST", "/crm/v3/objects/contacts", {
      body: { properties: {}, propertiez: {} },
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toMatch(
      /^Invalid input JSON on line 1, column \d+: Unrecognized field "propertiez"/,
    );
    const missingProperties = await callApi(simulator, "POST", "/crm/v3/objects/contacts", { body: {} });
    expect(missingProperties.status).toBe(400);
    expect(missingProperties.body.message).toContain("some of required attributes are not set [properties]");
    const badJson = await callApi(simulator, "POST", "/crm/v3/objects/contacts", {
      body: '{"properties": {',
      headers: { "content-type": "application/json" },
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body.message).toMatch(/^Invalid input JSON on line 1, column \d+/);
    const notJson = await callApi(simulator, "POST", "/crm/v3/objects/contacts", {
      body: "properties=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(notJson.status).toBe(415);
    expect((await callApi(simulator, "GET", "/crm/v3/nothing-here")).status).toBe(404);
    expect((await callApi(simulator, "PUT", "/crm/v3/objects/contacts")).status).toBe(405);
    expect(simulator.state.contacts()).toEqual([]);
    // Type ids and singular names name the same object type.
    expect((await callApi(simulator, "GET", "/crm/v3/objects/0-1")).status).toBe(200);
    expect((await callApi(simulator, "GET", "/crm/v3/objects/contact")).status).toBe(200);
  });

  it("acts as a HubSpot user through simulator.crm, with the same data rules (ConfigurationError otherwise)", async () => {
    const contact = simulator.crm.createContact({ email: "ui@example.com", firstname: "Ui" });
    expect(simulator.state.contact(contact.id)?.properties.firstname).toBe("Ui");
    expect(simulator.crm.updateContact(contact.id, { firstname: "Changed" }).properties.firstname).toBe(
      "Changed",
    );
    expect(() => simulator.crm.createContact({ email: "UI@example.com" })).toThrow(ConfigurationError);
    expect(() => simulator.crm.createContact({ shoe_size: "42" })).toThrow(/Property values were not valid/);
    expect(() => simulator.crm.updateContact("999999", { firstname: "x" })).toThrow(ConfigurationError);
    simulator.crm.deleteContact(contact.id);
    expect(simulator.state.contact(contact.id)?.archived).toBe(true);
    expect(() => simulator.crm.deleteContact(contact.id)).toThrow(ConfigurationError);
    expect(() =>
      simulator.crm.associate({
        fromObjectType: "contacts",
        fromObjectId: contact.id,
        toObjectType: "companies",
        toObjectId: "1",
      }),
    ).toThrow(ConfigurationError);
  });

  it("records every request with its status and parsed body", async () => {
    await client.crm.contacts.basicApi.create({ properties: { firstname: "Logged" } });
    await callApi(simulator, "GET", "/crm/v3/objects/contacts?limit=5&properties=a&properties=b");
    expect(simulator.requests).toHaveLength(2);
    expect(simulator.requests[0]).toMatchObject({
      method: "POST",
      path: "/crm/v3/objects/contacts",
      status: 201,
      body: { properties: { firstname: "Logged" } },
      fault: null,
      rateLimitPolicy: null,
    });
    expect(simulator.requests[1]?.query).toEqual({ limit: "5", properties: ["a", "b"] });
  });
});
