import type { Client } from "@hubspot/api-client";
import { FilterOperatorEnum } from "@hubspot/api-client/lib/codegen/crm/contacts/models/Filter.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  callApi,
  sdkClient,
  sdkFailure,
  type TestClock,
  testClock,
} from "./hubspot-simulator.test-helpers.ts";
import { startHubSpotSimulator } from "./hubspot-simulator.ts";
import type { HubSpotSimulator } from "./simulator-types.ts";

describe("HubSpot simulator: CRM search", () => {
  let simulator: HubSpotSimulator;
  let client: Client;
  let clock: TestClock;

  beforeAll(async () => {
    clock = testClock();
    simulator = await startHubSpotSimulator({ now: clock.now, rateLimit: false });
    client = sdkClient(simulator);
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  async function seed(): Promise<Record<string, string>> {
    const people = [
      {
        firstname: "Ada",
        lastname: "Lovelace",
        email: "ada@math.org",
        phone: "+15551230001",
        city: "London",
      },
      {
        firstname: "Alan",
        lastname: "Turing",
        email: "alan@math.org",
        phone: "(555) 123-0002",
        city: "London",
      },
      { firstname: "Grace", lastname: "Hopper", email: "grace@navy.mil", city: "New York" },
      { firstname: "Linus", lastname: "Torvalds", email: "linus@kernel.org" },
    ];
    const ids: Record<string, string> = {};
    for (const properties of people) {
      clock.advance(1_000);
      ids[properties.firstname] = (await client.crm.contacts.basicApi.create({ properties })).id;
    }
    return ids;
  }

  const names = (results: { properties: Record<string, string | null> }[]): (string | null | undefined)[] =>
    results.map((result) => result.properties.firstname);

  it("filters with EQ (case-insensitive), returns the default properties and the total", async () => {
    const ids = await seed();
    const response = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: "email", operator: FilterOperatorEnum.Eq, value: "ADA@math.org" }] },
      ],
    });
    expect(response.total).toBe(1);
    expect(response.results[0]?.id).toBe(ids.Ada);
    expect(Object.keys(response.results[0]?.properties ?? {}).sort()).toEqual([
      "createdate",
      "email",
      "firstname",
      "hs_object_id",
      "lastmodifieddate",
      "lastname",
    ]);
  });

  it("ORs filter groups and ANDs filters within a group", async () => {
    await seed();
    const response = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            { propertyName: "city", operator: FilterOperatorEnum.Eq, value: "London" },
            { propertyName: "firstname", operator: FilterOperatorEnum.Neq, value: "Ada" },
          ],
        },
        {
          filters: [
            { propertyName: "email", operator: FilterOperatorEnum.ContainsToken, value: "*@kernel.org" },
          ],
        },
      ],
      sorts: ["firstname"],
      properties: ["firstname", "city"],
    });
    expect(names(response.results)).toEqual(["Alan", "Linus"]);
    expect(response.results[1]?.properties.city).toBeNull();
  });

  it("supports IN (lower-case values for text), HAS_PROPERTY and NOT_HAS_PROPERTY", async () => {
    await seed();
    const search = (filters: { propertyName: string; operator: FilterOperatorEnum; values?: string[] }[]) =>
      client.crm.contacts.searchApi.doSearch({ filterGroups: [{ filters }], sorts: ["firstname"] });
    expect(
      names(
        (
          await search([
            { propertyName: "city", operator: FilterOperatorEnum.In, values: ["london", "new york"] },
          ])
        ).results,
      ),
    ).toEqual(["Ada", "Alan", "Grace"]);
    // The documented quirk: IN on text properties only matches lower-case values.
    expect(
      (await search([{ propertyName: "city", operator: FilterOperatorEnum.In, values: ["London"] }])).total,
    ).toBe(0);
    expect(
      names((await search([{ propertyName: "phone", operator: FilterOperatorEnum.HasProperty }])).results),
    ).toEqual(["Ada", "Alan"]);
    expect(
      names((await search([{ propertyName: "city", operator: FilterOperatorEnum.NotHasProperty }])).results),
    ).toEqual(["Linus"]);
  });

  it("finds a phone number only as it was typed (no normalisation)", async () => {
    await seed();
    const exact = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: "phone", operator: FilterOperatorEnum.Eq, value: "(555) 123-0002" }] },
      ],
    });
    expect(names(exact.results)).toEqual(["Alan"]);
    const e164 = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: "phone", operator: FilterOperatorEnum.Eq, value: "+15551230002" }] },
      ],
    });
    expect(e164.total).toBe(0);
  });

  it("compares lastmodifieddate with GT/GTE/LT/LTE/BETWEEN (epoch ms or ISO) and sorts descending", async () => {
    await seed();
    const cutoff = clock.now().getTime() - 1_500;
    const after = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            { propertyName: "lastmodifieddate", operator: FilterOperatorEnum.Gt, value: String(cutoff) },
          ],
        },
      ],
      sorts: [{ propertyName: "lastmodifieddate", direction: "DESCENDING" } as unknown as string],
    });
    expect(names(after.results)).toEqual(["Linus", "Grace"]);
    const before = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            {
              propertyName: "hs_lastmodifieddate",
              operator: FilterOperatorEnum.Lte,
              value: new Date(cutoff).toISOString(),
            },
          ],
        },
      ],
      sorts: ["-hs_lastmodifieddate"],
    });
    expect(names(before.results)).toEqual(["Alan", "Ada"]);
    const between = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            {
              propertyName: "createdate",
              operator: FilterOperatorEnum.Between,
              value: String(cutoff - 1_000),
              highValue: String(cutoff + 1_000),
            },
          ],
        },
      ],
    });
    expect(names(between.results)).toEqual(["Alan", "Grace"]);
  });

  it("pages with limit and after, up to the last result", async () => {
    await seed();
    const first = await client.crm.contacts.searchApi.doSearch({ limit: 3, sorts: ["firstname"] });
    expect(first.total).toBe(4);
    expect(names(first.results)).toEqual(["Ada", "Alan", "Grace"]);
    expect(first.paging?.next?.after).toBe("3");
    const second = await client.crm.contacts.searchApi.doSearch({
      limit: 3,
      after: "3",
      sorts: ["firstname"],
    });
    expect(names(second.results)).toEqual(["Linus"]);
    expect(second.paging).toBeUndefined();
  });

  it("searches the default searchable properties with query", async () => {
    await seed();
    const response = await client.crm.contacts.searchApi.doSearch({
      query: "math.org",
      sorts: ["firstname"],
    });
    expect(names(response.results)).toEqual(["Ada", "Alan"]);
  });

  it("enforces the limits: limit ≤ 200, 10 000 results, 5 groups of ≤ 6 filters, valid operators", async () => {
    const tooLarge = await sdkFailure(client.crm.contacts.searchApi.doSearch({ limit: 201 }));
    expect(tooLarge.code).toBe(400);
    expect(tooLarge.body.category).toBe("VALIDATION_ERROR");
    expect((await sdkFailure(client.crm.contacts.searchApi.doSearch({ after: "10000" }))).code).toBe(400);
    const filter = { propertyName: "firstname", operator: FilterOperatorEnum.HasProperty };
    const groups = await sdkFailure(
      client.crm.contacts.searchApi.doSearch({
        filterGroups: Array.from({ length: 6 }, () => ({ filters: [filter] })),
      }),
    );
    expect(groups.code).toBe(400);
    const perGroup = await sdkFailure(
      client.crm.contacts.searchApi.doSearch({
        filterGroups: [{ filters: Array.from({ length: 7 }, () => filter) }],
      }),
    );
    expect(perGroup.code).toBe(400);
    const operator = await callApi(simulator, "POST", "/crm/v3/objects/contacts/search", {
      body: { filterGroups: [{ filters: [{ propertyName: "email", operator: "LIKE", value: "x" }] }] },
    });
    expect(operator.status).toBe(400);
    expect((await client.crm.contacts.searchApi.doSearch({ limit: 200 })).results).toEqual([]);
  });

  /** Runs `test` against a second simulator whose search lags 2 s behind its records (same clock). */
  async function withLaggingSearch(
    test: (lagging: HubSpotSimulator, laggingClient: Client) => Promise<void>,
  ): Promise<void> {
    const lagging = await startHubSpotSimulator({
      now: clock.now,
      searchIndexLagMs: 2_000,
      rateLimit: false,
    });
    try {
      await test(lagging, sdkClient(lagging));
    } finally {
      await lagging.close();
    }
  }

  it("is eventually consistent: records reach the index after searchIndexLagMs", async () => {
    await withLaggingSearch(async (_lagging, laggingClient) => {
      const byEmail = (email: string) =>
        laggingClient.crm.contacts.searchApi.doSearch({
          filterGroups: [
            { filters: [{ propertyName: "email", operator: FilterOperatorEnum.Eq, value: email }] },
          ],
          properties: ["email", "city"],
        });
      const { id } = await laggingClient.crm.contacts.basicApi.create({
        properties: { email: "new@example.com", city: "Oslo" },
      });
      expect((await byEmail("new@example.com")).total).toBe(0);
      // The record itself is readable at once; only search lags.
      expect((await laggingClient.crm.contacts.basicApi.getById(id)).id).toBe(id);
      clock.advance(1_999);
      expect((await byEmail("new@example.com")).total).toBe(0);
      clock.advance(1);
      expect((await byEmail("new@example.com")).results[0]?.properties.city).toBe("Oslo");

      await laggingClient.crm.contacts.basicApi.update(id, { properties: { city: "Bergen" } });
      expect((await byEmail("new@example.com")).results[0]?.properties.city).toBe("Oslo");
      clock.advance(2_000);
      expect((await byEmail("new@example.com")).results[0]?.properties.city).toBe("Bergen");

      await laggingClient.crm.contacts.basicApi.archive(id);
      expect((await byEmail("new@example.com")).total).toBe(1);
      clock.advance(2_000);
      expect((await byEmail("new@example.com")).total).toBe(0);
    });
  });

  it("finds records by association (associations.contact), with the same lag as properties", async () => {
    await withLaggingSearch(async (lagging, laggingClient) => {
      const jane = lagging.crm.createContact({ firstname: "Jane" });
      const john = lagging.crm.createContact({ firstname: "John" });
      const timestamp = "2026-01-15T12:00:00.000Z";
      const communication = await laggingClient.crm.objects.communications.basicApi.create({
        properties: {
          hs_communication_channel_type: "SMS",
          hs_communication_logged_from: "CRM",
          hs_communication_body: "<p>Hello</p>",
          hs_timestamp: timestamp,
        },
        associations: [
          {
            to: { id: jane.id },
            types: [{ associationCategory: "HUBSPOT_DEFINED" as never, associationTypeId: 81 }],
          },
        ],
      });
      const associatedWith = (contactId: string, operator = FilterOperatorEnum.Eq) =>
        laggingClient.crm.objects.communications.searchApi.doSearch({
          filterGroups: [
            {
              filters: [
                { propertyName: "associations.contact", operator, value: contactId },
                {
                  propertyName: "hs_timestamp",
                  operator: FilterOperatorEnum.Eq,
                  value: String(Date.parse(timestamp)),
                },
              ],
            },
          ],
          properties: ["hs_communication_body"],
          limit: 200,
        });
      expect((await associatedWith(jane.id)).total).toBe(0);
      clock.advance(2_000);
      const found = await associatedWith(jane.id);
      expect(found.results.map((result) => result.id)).toEqual([communication.id]);
      expect(found.results[0]?.properties.hs_communication_body).toBe("<p>Hello</p>");
      expect((await associatedWith(john.id)).total).toBe(0);
      expect((await associatedWith(john.id, FilterOperatorEnum.Neq)).total).toBe(1);

      // A new association reaches search after the lag too; removing one, likewise.
      lagging.crm.associate({
        fromObjectType: "communications",
        fromObjectId: communication.id,
        toObjectType: "contacts",
        toObjectId: john.id,
        associationTypeId: 81,
      });
      expect((await associatedWith(john.id)).total).toBe(0);
      clock.advance(2_000);
      expect((await associatedWith(john.id)).total).toBe(1);
      lagging.crm.deleteContact(jane.id);
      expect((await associatedWith(jane.id)).total).toBe(1);
      clock.advance(2_000);
      expect((await associatedWith(jane.id)).total).toBe(0);
      expect((await associatedWith(john.id)).total).toBe(1);
      // The contacts side: contacts associated with the communication.
      const contacts = await laggingClient.crm.contacts.searchApi.doSearch({
        filterGroups: [
          {
            filters: [
              { propertyName: "associations.communication", operator: FilterOperatorEnum.HasProperty },
            ],
          },
        ],
        properties: ["firstname"],
      });
      expect(names(contacts.results)).toEqual(["John"]);
    });
  });
});
