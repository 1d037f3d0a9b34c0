import type { Client } from "@hubspot/api-client";
import { AssociationSpecAssociationCategoryEnum as V4Category } from "@hubspot/api-client/lib/codegen/crm/associations/v4/models/AssociationSpec.js";
import { AssociationSpecAssociationCategoryEnum as CallCategory } from "@hubspot/api-client/lib/codegen/crm/objects/calls/models/AssociationSpec.js";
import { AssociationSpecAssociationCategoryEnum as CommunicationCategory } from "@hubspot/api-client/lib/codegen/crm/objects/communications/models/AssociationSpec.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, sdkClient, sdkFailure } from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import type { HubSpotSimulator } from "./simulator-types.ts";

describe("HubSpot simulator: communications, calls, companies and associations", () => {
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

  async function contact(email = "jane@example.com"): Promise<string> {
    return (await client.crm.contacts.basicApi.create({ properties: { email } })).id;
  }

  it("logs an SMS as a communication associated inline with a contact (type 81)", async () => {
    const contactId = await contact();
    const created = await client.crm.objects.communications.basicApi.create({
      properties: {
        hs_communication_channel_type: "SMS",
        hs_communication_logged_from: "CRM",
        hs_communication_body: "Is my order ready?",
        hs_timestamp: "2026-01-15T12:00:00.000Z",
      },
      associations: [
        {
          to: { id: contactId },
          types: [{ associationCategory: CommunicationCategory.HubspotDefined, associationTypeId: 81 }],
        },
      ],
    });
    expect(created.properties).toMatchObject({
      hs_communication_channel_type: "SMS",
      hs_communication_body: "Is my order ready?",
      hs_timestamp: "2026-01-15T12:00:00Z",
      hs_object_id: created.id,
    });
    expect(created.properties.hs_createdate).toBeDefined();
    expect(simulator.state.associations("communications", created.id)).toEqual([
      {
        toObjectType: "contacts",
        toObjectId: contactId,
        associationTypes: [{ category: "HUBSPOT_DEFINED", typeId: 81, label: null }],
      },
    ]);
    expect(simulator.state.associations("contacts", contactId, "communications")).toEqual([
      {
        toObjectType: "communications",
        toObjectId: created.id,
        associationTypes: [{ category: "HUBSPOT_DEFINED", typeId: 82, label: null }],
      },
    ]);
    const page = await client.crm.associations.v4.basicApi.getPage("contacts", contactId, "communications");
    expect(page.results).toEqual([
      {
        toObjectId: Number(created.id),
        associationTypes: [{ category: "HUBSPOT_DEFINED", typeId: 82, label: null }],
      },
    ]);
    const withAssociations = await client.crm.contacts.basicApi.getById(contactId, undefined, undefined, [
      "communications",
    ]);
    expect(withAssociations.associations?.communications?.results).toEqual([
      { id: created.id, type: "contact_to_communication" },
    ]);
  });

  it("checks communications: hs_timestamp and a documented channel type are required", async () => {
    const missing = await sdkFailure(
      client.crm.objects.communications.basicApi.create({
        properties: { hs_communication_body: "no timestamp" },
        associations: [],
      }),
    );
    expect(missing.code).toBe(400);
    expect(missing.body.errors.map((error: { code: string }) => error.code)).toEqual([
      "MISSING_REQUIRED_PROPERTY",
      "MISSING_REQUIRED_PROPERTY",
    ]);
    const wrongChannel = await sdkFailure(
      client.crm.objects.communications.basicApi.create({
        properties: { hs_timestamp: "1700000000000", hs_communication_channel_type: "IMESSAGE" },
        associations: [],
      }),
    );
    expect(wrongChannel.body.errors[0]).toMatchObject({ code: "INVALID_OPTION" });
    expect(simulator.state.communications()).toEqual([]);
  });

  it("logs a call with duration in ms, direction, status, numbers and recording, associated inline (type 194)", async () => {
    const contactId = await contact();
    const created = await client.crm.objects.calls.basicApi.create({
      properties: {
        hs_timestamp: "1768478400000",
        hs_call_direction: "INBOUND",
        hs_call_duration: "93000",
        hs_call_from_number: "+15551234567",
        hs_call_to_number: "+15550001111",
        hs_call_status: "COMPLETED",
        hs_call_recording_url: "https://example.com/recording.mp3",
        hs_call_title: "Inbound call",
        hs_call_body: "Customer asked about the order",
      },
      associations: [
        {
          to: { id: contactId },
          types: [{ associationCategory: CallCategory.HubspotDefined, associationTypeId: 194 }],
        },
      ],
    });
    expect(created.properties).toMatchObject({
      hs_timestamp: "2026-01-15T12:00:00Z",
      hs_call_duration: "93000",
      hs_call_direction: "INBOUND",
      hs_call_status: "COMPLETED",
    });
    expect(simulator.state.calls()).toHaveLength(1);
    expect(simulator.state.associations("contacts", contactId, "calls")[0]?.associationTypes[0]?.typeId).toBe(
      193,
    );
    const invalid = await sdkFailure(
      client.crm.objects.calls.basicApi.create({
        properties: {
          hs_timestamp: "1768478400000",
          hs_call_status: "DONE",
          hs_call_direction: "SIDEWAYS",
          hs_call_duration: "1m",
        },
        associations: [],
      }),
    );
    expect(invalid.body.errors.map((error: { code: string }) => error.code)).toEqual([
      "INVALID_OPTION",
      "INVALID_OPTION",
      "INVALID_DOUBLE",
    ]);
  });

  it("refuses invalid inline associations: wrong direction, unknown type, missing record", async () => {
    const contactId = await contact();
    const base = { hs_timestamp: "1768478400000" };
    const wrongDirection = await sdkFailure(
      client.crm.objects.calls.basicApi.create({
        properties: base,
        associations: [
          {
            to: { id: contactId },
            types: [{ associationCategory: CallCategory.HubspotDefined, associationTypeId: 193 }],
          },
        ],
      }),
    );
    expect(wrongDirection.code).toBe(400);
    expect(wrongDirection.body.message).toBe(
      "invalid from object type 0-48 for associations to be created. expected: 0-1",
    );
    const unknownType = await sdkFailure(
      client.crm.objects.calls.basicApi.create({
        properties: base,
        associations: [
          {
            to: { id: contactId },
            types: [{ associationCategory: CallCategory.HubspotDefined, associationTypeId: 99999 }],
          },
        ],
      }),
    );
    expect(unknownType.code).toBe(400);
    const missingRecord = await sdkFailure(
      client.crm.objects.calls.basicApi.create({
        properties: base,
        associations: [
          {
            to: { id: "77777" },
            types: [{ associationCategory: CallCategory.HubspotDefined, associationTypeId: 194 }],
          },
        ],
      }),
    );
    expect(missingRecord.code).toBe(400);
    expect(missingRecord.body).toMatchObject({
      message: "One or more associations are invalid",
      category: "VALIDATION_ERROR",
      context: { INVALID_OBJECT_IDS: ["CONTACT=77777 is not valid"] },
    });
    expect(simulator.state.calls()).toEqual([]);
  });

  it("associates through v4: default (both directions), labelled (Primary), list, labels, remove", async () => {
    const contactId = await contact();
    const company = simulator.crm.createCompany({ name: "Acme", domain: "acme.com" });
    const fetched = await client.crm.companies.basicApi.getById(company.id);
    expect(fetched.properties).toMatchObject({ name: "Acme", domain: "acme.com" });

    const defaults = await client.crm.associations.v4.basicApi.createDefault(
      "contacts",
      contactId,
      "companies",
      company.id,
    );
    expect(defaults.status).toBe("COMPLETE");
    expect(
      defaults.results.map((result) => [
        result._from.id,
        result.to.id,
        result.associationSpec.associationTypeId,
      ]),
    ).toEqual([
      [contactId, company.id, 279],
      [company.id, contactId, 280],
    ]);
    const primary = await client.crm.associations.v4.basicApi.create(
      "contacts",
      contactId,
      "companies",
      company.id,
      [{ associationCategory: V4Category.HubspotDefined, associationTypeId: 1 }],
    );
    expect(primary).toMatchObject({
      fromObjectTypeId: "0-1",
      fromObjectId: Number(contactId),
      toObjectTypeId: "0-2",
      toObjectId: Number(company.id),
      labels: ["Primary"],
    });
    const listed = await client.crm.associations.v4.basicApi.getPage("companies", company.id, "contacts");
    expect(listed.results[0]?.associationTypes).toEqual([
      { category: "HUBSPOT_DEFINED", typeId: 2, label: "Primary" },
      { category: "HUBSPOT_DEFINED", typeId: 280, label: null },
    ]);
    const labels = await client.crm.associations.v4.schema.definitionsApi.getAll("contacts", "companies");
    expect(labels.results).toEqual([
      { category: "HUBSPOT_DEFINED", typeId: 279, label: null },
      { category: "HUBSPOT_DEFINED", typeId: 1, label: "Primary" },
    ]);
    await client.crm.associations.v4.basicApi.archive("contacts", contactId, "companies", company.id);
    expect(simulator.state.associations("contacts", contactId)).toEqual([]);
    expect(simulator.state.associations("companies", company.id)).toEqual([]);

    const wrongType = await sdkFailure(
      client.crm.associations.v4.basicApi.create("contacts", contactId, "companies", company.id, [
        { associationCategory: V4Category.HubspotDefined, associationTypeId: 194 },
      ]),
    );
    expect(wrongType.code).toBe(400);
    const missing = await sdkFailure(
      client.crm.associations.v4.basicApi.createDefault("contacts", "55555", "companies", company.id),
    );
    expect(missing.code).toBe(404);
  });

  it("batch-creates and batch-reads associations; records without any are reported as NO_ASSOCIATIONS_FOUND (207)", async () => {
    const first = await contact("one@example.com");
    const second = await contact("two@example.com");
    const call = await client.crm.objects.calls.basicApi.create({
      properties: { hs_timestamp: "1768478400000" },
      associations: [],
    });
    const created = await client.crm.associations.v4.batchApi.create("contacts", "calls", {
      inputs: [
        {
          _from: { id: first },
          to: { id: call.id },
          types: [{ associationCategory: V4Category.HubspotDefined, associationTypeId: 193 }],
        },
      ],
    });
    expect(created.status).toBe("COMPLETE");
    const read = await callApi(simulator, "POST", "/crm/v4/associations/contacts/calls/batch/read", {
      body: { inputs: [{ id: first }, { id: second }] },
    });
    expect(read.status).toBe(207);
    expect(read.body.results).toEqual([
      {
        from: { id: first },
        to: [
          {
            toObjectId: Number(call.id),
            associationTypes: [{ category: "HUBSPOT_DEFINED", typeId: 193, label: null }],
          },
        ],
      },
    ]);
    expect(read.body.errors[0]).toMatchObject({
      category: "OBJECT_NOT_FOUND",
      subCategory: "crm.associations.NO_ASSOCIATIONS_FOUND",
      message: `No call is associated with contact ${second}.`,
    });
    const viaSdk = await client.crm.associations.v4.batchApi.getPage("calls", "contacts", {
      inputs: [{ id: call.id }],
    });
    expect(viaSdk.results[0]?.to[0]?.toObjectId).toBe(Number(first));
  });

  it("batch-associates with the default type, pages a record's associations, batch-archives them", async () => {
    const contactId = await contact();
    const calls: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      calls.push(
        (
          await client.crm.objects.calls.basicApi.create({
            properties: { hs_timestamp: "1768478400000" },
            associations: [],
          })
        ).id,
      );
    }
    const linked = await client.crm.associations.v4.batchApi.createDefault("contacts", "calls", {
      inputs: calls.map((id) => ({ _from: { id: contactId }, to: { id } })),
    });
    expect(linked.results).toHaveLength(6);
    const first = await client.crm.associations.v4.basicApi.getPage(
      "contacts",
      contactId,
      "calls",
      undefined,
      2,
    );
    expect(first.results.map((result) => String(result.toObjectId))).toEqual(calls.slice(0, 2));
    const next = first.paging?.next?.after;
    expect(next).toBe(calls[2]);
    const second = await client.crm.associations.v4.basicApi.getPage("contacts", contactId, "calls", next, 2);
    expect(second.results.map((result) => String(result.toObjectId))).toEqual([calls[2]]);
    await client.crm.associations.v4.batchApi.archive("contacts", "calls", {
      inputs: [{ _from: { id: contactId }, to: calls.slice(0, 2).map((id) => ({ id })) }],
    });
    expect(
      simulator.state.associations("contacts", contactId).map((association) => association.toObjectId),
    ).toEqual([calls[2]]);
    const labels = await callApi(simulator, "GET", "/crm/associations/v4/calls/contacts/labels");
    expect(labels.body.results).toEqual([{ category: "HUBSPOT_DEFINED", typeId: 194, label: null }]);
  });

  it("drops a record's associations when it is archived", async () => {
    const contactId = await contact();
    const call = await client.crm.objects.calls.basicApi.create({
      properties: { hs_timestamp: "1768478400000" },
      associations: [
        {
          to: { id: contactId },
          types: [{ associationCategory: CallCategory.HubspotDefined, associationTypeId: 194 }],
        },
      ],
    });
    await client.crm.objects.calls.basicApi.archive(call.id);
    expect(simulator.state.associations("contacts", contactId)).toEqual([]);
    expect(simulator.state.calls({ archived: true })).toHaveLength(1);
  });

  it("searches calls and communications by hs_timestamp", async () => {
    for (const timestamp of ["1768478400000", "1768482000000"]) {
      await client.crm.objects.communications.basicApi.create({
        properties: {
          hs_timestamp: timestamp,
          hs_communication_channel_type: "WHATS_APP",
          hs_communication_logged_from: "CRM",
        },
        associations: [],
      });
    }
    const response = await client.crm.objects.communications.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            { propertyName: "hs_timestamp", operator: "GTE" as never, value: "2026-01-15T12:30:00Z" },
          ],
        },
      ],
      properties: ["hs_timestamp", "hs_communication_channel_type"],
    });
    expect(response.total).toBe(1);
    expect(response.results[0]?.properties).toMatchObject({
      hs_timestamp: "2026-01-15T13:00:00Z",
      hs_communication_channel_type: "WHATS_APP",
    });
  });
});
