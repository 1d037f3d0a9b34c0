import type { Client } from "@hubspot/api-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, sdkClient, sdkFailure } from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import type { HubSpotSimulator } from "./simulator-types.ts";

describe("HubSpot simulator: batch endpoints", () => {
  let simulator: HubSpotSimulator;
  let client: Client;

  beforeAll(async () => {
    simulator = await startHubSpotSimulator({ rateLimit: false });
    client = sdkClient(simulator);
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  const contactInputs = (count: number) =>
    Array.from({ length: count }, (_, index) => ({
      properties: { email: `person${index}@example.com` },
      associations: [],
    }));

  it("batch/create: 201 COMPLETE with every record; more than 100 inputs is a 400", async () => {
    const response = await client.crm.contacts.batchApi.create({ inputs: contactInputs(3) });
    expect(response.status).toBe("COMPLETE");
    expect(response.results.map((result) => result.properties.email).sort()).toEqual([
      "person0@example.com",
      "person1@example.com",
      "person2@example.com",
    ]);
    expect(response.startedAt).toBeInstanceOf(Date);
    const failure = await sdkFailure(client.crm.contacts.batchApi.create({ inputs: contactInputs(101) }));
    expect(failure.code).toBe(400);
    expect(failure.body).toMatchObject({
      category: "VALIDATION_ERROR",
      message: expect.stringContaining("The maximum number of inputs supported in a batch request is 100"),
    });
    expect(simulator.state.contacts()).toHaveLength(3);
  });

  it("batch/create is all-or-nothing without objectWriteTraceId: one conflict fails the batch", async () => {
    const existing = await client.crm.contacts.basicApi.create({
      properties: { email: "taken@example.com" },
    });
    const failure = await sdkFailure(
      client.crm.contacts.batchApi.create({
        inputs: [
          { properties: { email: "fresh@example.com" }, associations: [] },
          { properties: { email: "taken@example.com" }, associations: [] },
        ],
      }),
    );
    expect(failure.code).toBe(409);
    expect(failure.body.message).toBe(`Contact already exists. Existing ID: ${existing.id}`);
    expect(simulator.state.contacts()).toHaveLength(1);
  });

  it("batch/create with objectWriteTraceId answers 207 with the failures per input", async () => {
    const response = await callApi(simulator, "POST", "/crm/v3/objects/contacts/batch/create", {
      body: {
        inputs: [
          { objectWriteTraceId: "ok-1", properties: { firstname: "Fine" } },
          { objectWriteTraceId: "bad-1", properties: { missing: "1" } },
        ],
      },
    });
    expect(response.status).toBe(207);
    expect(response.body.results).toHaveLength(1);
    expect(response.body.numErrors).toBe(1);
    expect(response.body.errors[0]).toMatchObject({
      status: "error",
      category: "VALIDATION_ERROR",
      message: expect.stringContaining('Property \\"missing\\" does not exist'),
      context: { objectWriteTraceId: ["bad-1"] },
    });
    expect(simulator.state.contacts()).toHaveLength(1);
  });

  it("batch/read: found records (200), missing ids reported with 207, idProperty=email, duplicate ids refused", async () => {
    const created = await client.crm.contacts.batchApi.create({ inputs: contactInputs(2) });
    const ids = created.results.map((result) => result.id).sort();
    const read = await client.crm.contacts.batchApi.read({
      inputs: ids.map((id) => ({ id })),
      properties: ["email"],
      propertiesWithHistory: [],
    });
    expect(read.results.map((result) => result.properties.email).sort()).toEqual([
      "person0@example.com",
      "person1@example.com",
    ]);
    const partial = await callApi(simulator, "POST", "/crm/v3/objects/contacts/batch/read", {
      body: { inputs: [{ id: ids[0] }, { id: "424242" }], properties: ["email"] },
    });
    expect(partial.status).toBe(207);
    expect(partial.body.errors).toEqual([
      {
        status: "error",
        category: "OBJECT_NOT_FOUND",
        message:
          "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
        context: { ids: ["424242"] },
      },
    ]);
    const byEmail = await client.crm.contacts.batchApi.read({
      inputs: [{ id: "person1@example.com" }],
      properties: ["email"],
      propertiesWithHistory: [],
      idProperty: "email",
    });
    expect(byEmail.results[0]?.properties.email).toBe("person1@example.com");
    const duplicates = await sdkFailure(
      client.crm.contacts.batchApi.read({
        inputs: [{ id: ids[0] ?? "" }, { id: ids[0] ?? "" }],
        properties: [],
        propertiesWithHistory: [],
      }),
    );
    expect(duplicates.code).toBe(400);
    expect(duplicates.body.message).toBe(
      `Duplicate IDs found in batch input: [${ids[0]}]. IDs must be unique`,
    );
  });

  it("batch/update: 200 with the updated records; an invalid value fails the whole batch", async () => {
    const created = await client.crm.contacts.batchApi.create({ inputs: contactInputs(2) });
    const [first, second] = created.results;
    const updated = await client.crm.contacts.batchApi.update({
      inputs: [
        { id: first?.id ?? "", properties: { city: "Rome" } },
        { id: second?.id ?? "", properties: { city: "Milan" } },
      ],
    });
    expect(updated.results.map((result) => result.properties.city).sort()).toEqual(["Milan", "Rome"]);
    const failure = await sdkFailure(
      client.crm.contacts.batchApi.update({
        inputs: [
          { id: first?.id ?? "", properties: { city: "Turin" } },
          { id: second?.id ?? "", properties: { lifecyclestage: "nope" } },
        ],
      }),
    );
    expect(failure.code).toBe(400);
    expect(failure.body.errors[0].code).toBe("INVALID_OPTION");
    expect(simulator.state.contact(first?.id ?? "")?.properties.city).toBe("Rome");
    expect(
      (
        await sdkFailure(
          client.crm.contacts.batchApi.update({
            inputs: Array.from({ length: 101 }, (_, index) => ({ id: String(index + 1), properties: {} })),
          }),
        )
      ).code,
    ).toBe(400);
  });

  it("batch/upsert by email: updates existing contacts, creates the others (with new: true)", async () => {
    const existing = await client.crm.contacts.basicApi.create({
      properties: { email: "luke@diner.com", phone: "1" },
    });
    const response = await client.crm.contacts.batchApi.upsert({
      inputs: [
        { id: "luke@diner.com", idProperty: "email", properties: { phone: "5555555555" } },
        { id: "lorelai@dragonfly.com", idProperty: "email", properties: { phone: "7777777777" } },
      ],
    });
    const byEmail = Object.fromEntries(response.results.map((result) => [result.properties.email, result]));
    expect(byEmail["luke@diner.com"]).toMatchObject({ id: existing.id, _new: false });
    expect(byEmail["lorelai@dragonfly.com"]).toMatchObject({ _new: true });
    expect(simulator.state.contact(existing.id)?.properties.phone).toBe("5555555555");
    expect(
      simulator.state
        .contacts()
        .map((contact) => contact.properties.email)
        .sort(),
    ).toEqual(["lorelai@dragonfly.com", "luke@diner.com"]);
  });

  it("batch/archive: 204; unknown ids are ignored", async () => {
    const created = await client.crm.contacts.batchApi.create({ inputs: contactInputs(2) });
    await client.crm.contacts.batchApi.archive({
      inputs: [...created.results.map((result) => ({ id: result.id })), { id: "987654" }],
    });
    expect(simulator.state.contacts()).toEqual([]);
    expect(simulator.state.contacts({ archived: true })).toHaveLength(2);
  });
});
