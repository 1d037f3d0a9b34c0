import type { Connection } from "jsforce";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callApi, connect, failure, manualClock } from "./salesforce-simulator.test-helpers.ts";
import { startSalesforceSimulator } from "./salesforce-simulator.ts";
import type { SalesforceSimulator } from "./simulator-types.ts";

type Row = Record<string, unknown>;

describe("Salesforce simulator: SOQL and SOSL", () => {
  let simulator: SalesforceSimulator;
  let connection: Connection;
  const clock = manualClock("2026-03-10T12:00:00Z");
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    simulator = await startSalesforceSimulator({
      now: clock.now,
      queryBatchSize: 3,
      accessTokenTtlSeconds: 30 * 86_400,
    });
    connection = connect(simulator);
    const acme = await connection
      .sobject("Account")
      .create({ Name: "Acme", Industry: "Retail", NumberOfEmployees: 120 });
    const globex = await connection
      .sobject("Account")
      .create({ Name: "Globex", Industry: "Technology", NumberOfEmployees: 15 });
    ids.acme = String(acme.id);
    ids.globex = String(globex.id);
    const people: Row[] = [
      {
        FirstName: "Ada",
        LastName: "Lovelace",
        AccountId: ids.acme,
        MobilePhone: "(555) 123-4567",
        Email: "ada@acme.example",
        Birthdate: "1990-12-10",
      },
      {
        FirstName: "Grace",
        LastName: "Hopper",
        AccountId: ids.acme,
        Phone: "+44 20 7946 0958",
        Email: "grace@acme.example",
      },
      { FirstName: "Alan", LastName: "Turing", AccountId: ids.globex, MobilePhone: "555.987.6543" },
      { FirstName: null, LastName: "O'Neil", Title: "100% owner" },
      { FirstName: "Edsger", LastName: "Dijkstra", HomePhone: "5551234567" },
    ];
    for (const person of people) {
      const created = await connection.sobject("Contact").create(person);
      ids[String(person.LastName)] = String(created.id);
      clock.advance(86_400_000);
    }
    await connection
      .sobject("Lead")
      .create({ LastName: "Babbage", Company: "Engines Ltd", MobilePhone: "+1 (555) 123-4567" });
    await connection
      .sobject("Task")
      .create({ Subject: "Call Ada", WhoId: ids.Lovelace, TaskSubtype: "Call" });
    await connection.sobject("Task").create({ Subject: "Orphan task" });
  });
  afterAll(async () => {
    await simulator.close();
  });

  const names = (records: Row[]): unknown[] => records.map((record) => record.LastName);

  it("filters with AND/OR/NOT, parentheses, comparisons, IN, LIKE and null", async () => {
    const query = async (soql: string) =>
      (await connection.query<Row>(soql, { autoFetch: true, maxFetch: 10_000 })).records;
    expect(
      names(await query("SELECT LastName FROM Contact WHERE AccountId = null ORDER BY LastName")),
    ).toEqual(["Dijkstra", "O'Neil"]);
    expect(
      names(
        await query(
          "SELECT LastName FROM Contact WHERE AccountId != null AND (FirstName LIKE 'a%' OR LastName = 'HOPPER') ORDER BY LastName",
        ),
      ),
    ).toEqual(["Hopper", "Lovelace", "Turing"]);
    expect(
      names(
        await query(
          "SELECT LastName FROM Contact WHERE NOT LastName IN ('Lovelace', 'Hopper', 'Turing') ORDER BY LastName DESC",
        ),
      ),
    ).toEqual(["O'Neil", "Dijkstra"]);
    expect(
      names(
        await query("SELECT LastName FROM Contact WHERE LastName NOT IN ('Lovelace') AND FirstName = null"),
      ),
    ).toEqual(["O'Neil"]);
    expect(names(await query("SELECT LastName FROM Contact WHERE LastName = 'O\\'Neil'"))).toEqual([
      "O'Neil",
    ]);
    expect(names(await query("SELECT LastName FROM Contact WHERE Title LIKE '100\\%%'"))).toEqual(["O'Neil"]);
    expect(names(await query("SELECT LastName FROM Contact WHERE Title LIKE '100\\_%'"))).toEqual([]);
    expect(
      (await query("SELECT Name FROM Account WHERE NumberOfEmployees >= 100")).map((record) => record.Name),
    ).toEqual(["Acme"]);
    expect(names(await query("SELECT LastName FROM Contact WHERE Birthdate < 2000-01-01"))).toEqual([
      "Lovelace",
    ]);
    expect(
      names(
        await query(
          "SELECT LastName FROM Contact WHERE CreatedDate > 2026-03-12T00:00:00Z ORDER BY CreatedDate",
        ),
      ),
    ).toEqual(["Turing", "O'Neil", "Dijkstra"]);
    expect(
      names(await query("SELECT LastName FROM Contact WHERE CreatedDate = LAST_N_DAYS:1 ORDER BY LastName")),
    ).toEqual(["Dijkstra"]);
    expect(
      names(await query("SELECT LastName FROM Contact WHERE CreatedDate >= LAST_N_DAYS:2 ORDER BY LastName")),
    ).toEqual(["Dijkstra", "O'Neil"]);
    expect(names(await query("SELECT LastName FROM Contact WHERE CreatedDate = TODAY"))).toEqual([]);
    expect(
      (await query(`SELECT Id FROM Contact WHERE Id = '${ids.Turing?.slice(0, 15)}'`)).map(
        (record) => record.Id,
      ),
    ).toEqual([ids.Turing]);
  });

  it("orders with NULLS FIRST/LAST, limits and offsets", async () => {
    const query = async (soql: string) =>
      (await connection.query<Row>(soql, { autoFetch: true, maxFetch: 10_000 })).records;
    expect(
      (await query("SELECT FirstName FROM Contact ORDER BY FirstName ASC NULLS LAST")).map(
        (record) => record.FirstName,
      ),
    ).toEqual(["Ada", "Alan", "Edsger", "Grace", null]);
    expect(
      (await query("SELECT FirstName FROM Contact ORDER BY FirstName")).map((record) => record.FirstName)[0],
    ).toBeNull();
    expect(
      names(await query("SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 2 OFFSET 1")),
    ).toEqual(["O'Neil", "Lovelace"]);
    expect(
      names(
        await query("SELECT LastName FROM Contact ORDER BY Account.Name DESC NULLS LAST, LastName LIMIT 3"),
      ),
    ).toEqual(["Turing", "Hopper", "Lovelace"]);
  });

  it("selects relationship fields one level deep, including polymorphic Who", async () => {
    const contacts = (
      await connection.query<Row>(
        "SELECT Name, Account.Name, Owner.Email FROM Contact WHERE LastName IN ('Lovelace', 'Dijkstra') ORDER BY LastName",
      )
    ).records;
    expect(contacts[0]).toEqual({
      attributes: { type: "Contact", url: `/services/data/v62.0/sobjects/Contact/${ids.Dijkstra}` },
      Name: "Edsger Dijkstra",
      Account: null,
      Owner: {
        attributes: { type: "User", url: expect.stringMatching(/\/User\/005/) },
        Email: "integration@example.com",
      },
    });
    expect(contacts[1]?.Account).toEqual({
      attributes: { type: "Account", url: `/services/data/v62.0/sobjects/Account/${ids.acme}` },
      Name: "Acme",
    });
    const tasks = (
      await connection.query<Row>(
        "SELECT Subject, Who.Name, Who.Type FROM Task WHERE Who.Name LIKE 'Ada%' OR WhoId = null ORDER BY Subject",
      )
    ).records;
    expect(tasks.map((task) => [task.Subject, task.Who])).toEqual([
      [
        "Call Ada",
        {
          attributes: { type: "Contact", url: `/services/data/v62.0/sobjects/Contact/${ids.Lovelace}` },
          Name: "Ada Lovelace",
          Type: "Contact",
        },
      ],
      ["Orphan task", null],
    ]);
  });

  it("COUNT() answers totalSize without records", async () => {
    const count = await callApi(
      simulator,
      "GET",
      `/query?q=${encodeURIComponent("SELECT COUNT() FROM Contact WHERE AccountId = null")}`,
    );
    expect(count.body).toEqual({ totalSize: 2, done: true, records: [] });
    expect(await connection.sobject("Contact").count({ AccountId: ids.acme })).toBe(2);
  });

  it("pages with nextRecordsUrl and jsforce fetches every page (queryMore)", async () => {
    const first = await callApi(
      simulator,
      "GET",
      `/query?q=${encodeURIComponent("SELECT Id, LastName FROM Contact ORDER BY LastName")}`,
    );
    expect(first.body).toMatchObject({
      totalSize: 5,
      done: false,
      nextRecordsUrl: expect.stringMatching(/^\/services\/data\/v62\.0\/query\/01g[A-Za-z0-9]+-3$/),
    });
    expect(first.body.records).toHaveLength(3);
    const second = await callApi(simulator, "GET", first.body.nextRecordsUrl);
    expect(second.body).toEqual({
      totalSize: 5,
      done: true,
      records: [
        expect.objectContaining({ LastName: "O'Neil" }),
        expect.objectContaining({ LastName: "Turing" }),
      ],
    });
    const all = await connection.query<Row>("SELECT LastName FROM Contact ORDER BY LastName", {
      autoFetch: true,
      maxFetch: 10_000,
    });
    expect(names(all.records)).toEqual(["Dijkstra", "Hopper", "Lovelace", "O'Neil", "Turing"]);
    const more = await connection.queryMore(String(first.body.nextRecordsUrl));
    expect(more.records).toHaveLength(2);
    const invalid = await callApi(simulator, "GET", "/query/01gBOGUS-3");
    expect(invalid.body).toEqual([{ errorCode: "INVALID_QUERY_LOCATOR", message: "invalid query locator" }]);
    const otherUser = await callApi(simulator, "GET", first.body.nextRecordsUrl, {
      token: simulator.issueAccessToken("rep@example.com.simulator"),
    });
    expect(otherUser.status).toBe(400);
  });

  it("queryAll includes the recycle bin", async () => {
    const { id } = await connection.sobject("Lead").create({ LastName: "Temporary", Company: "Tmp" });
    await connection.sobject("Lead").destroy(String(id));
    const live = await connection.query<Row>("SELECT Id FROM Lead WHERE LastName = 'Temporary'");
    const all = await connection.query<Row>("SELECT Id, IsDeleted FROM Lead WHERE LastName = 'Temporary'", {
      scanAll: true,
    });
    expect(live.totalSize).toBe(0);
    expect(all.records).toEqual([expect.objectContaining({ Id: id, IsDeleted: true })]);
  });

  it("answers Salesforce's query errors with the caret layout", async () => {
    const invalidField = await failure(connection.query("SELECT Id, Foo FROM Contact"));
    expect(invalidField.errorCode).toBe("INVALID_FIELD");
    expect(invalidField.message).toBe(
      "\nSELECT Id, Foo FROM Contact\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
    );
    const invalidType = await failure(connection.query("SELECT Id FROM Opportunity"));
    expect(invalidType.errorCode).toBe("INVALID_TYPE");
    expect(invalidType.message).toContain("sObject type 'Opportunity' is not supported.");
    const mixed = await failure(
      connection.query("SELECT Id FROM Contact WHERE FirstName = 'a' AND LastName = 'b' OR Title = 'c'"),
    );
    expect(mixed.errorCode).toBe("MALFORMED_QUERY");
    expect(mixed.message).toMatch(/ERROR at Row:1:Column:65\nunexpected token: 'OR'$/);
    const eof = await failure(connection.query("SELECT Id FROM Contact LIMIT"));
    expect(eof.message).toMatch(/unexpected token: <EOF>$/);
    const typed = await failure(connection.query("SELECT Id FROM Account WHERE NumberOfEmployees > '10'"));
    expect(typed.message).toMatch(
      /value of filter criterion for field 'NumberOfEmployees' must be of type integer and should not be enclosed in quotes$/,
    );
    const quoted = await failure(connection.query("SELECT Id FROM Contact WHERE LastName = 5"));
    expect(quoted.message).toMatch(/must be of type string and should be enclosed in quotes$/);
    const dateTime = await failure(connection.query("SELECT Id FROM Contact WHERE CreatedDate > 2026-01-01"));
    expect(dateTime.message).toMatch(/must be of type dateTime/);
    const badId = await failure(connection.query("SELECT Id FROM Contact WHERE AccountId = 'nope'"));
    expect([badId.errorCode, badId.message.split("\n").at(-1)]).toEqual([
      "INVALID_QUERY_FILTER_OPERATOR",
      "invalid ID field: nope",
    ]);
    const relationship = await failure(connection.query("SELECT Boss.Name FROM Contact"));
    expect(relationship.message).toContain("Didn't understand relationship 'Boss' in field path.");
    const duplicate = await failure(connection.query("SELECT Name, name FROM Contact"));
    expect(duplicate.message).toMatch(/duplicate field selected: name$/);
    const longText = await failure(connection.query("SELECT Id FROM Contact WHERE Description = 'x'"));
    expect(longText.message).toMatch(/field 'Description' can not be filtered in query call$/);
    const unsupported = await failure(connection.query("SELECT Id FROM Contact GROUP BY LastName"));
    expect(unsupported.errorCode).toBe("MALFORMED_QUERY");
    expect((await callApi(simulator, "GET", "/query")).body[0].errorCode).toBe("MALFORMED_QUERY");
  });

  it("SOSL finds a phone number typed any way by its digits", async () => {
    const search = async (sosl: string) =>
      ((await connection.search(sosl)) as unknown as { searchRecords: Row[] }).searchRecords;
    const byE164 = await search(
      "FIND {\\+15551234567} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone, MobilePhone), Lead(Id, Name, MobilePhone)",
    );
    expect(byE164.map((record) => [(record.attributes as { type: string }).type, record.Name])).toEqual([
      ["Contact", "Ada Lovelace"],
      ["Contact", "Edsger Dijkstra"],
      ["Lead", "Babbage"],
    ]);
    expect(byE164[0]).toEqual({
      attributes: { type: "Contact", url: `/services/data/v62.0/sobjects/Contact/${ids.Lovelace}` },
      Id: ids.Lovelace,
      Name: "Ada Lovelace",
      Phone: null,
      MobilePhone: "(555) 123-4567",
    });
    expect(
      (await search("FIND {5551234567} IN PHONE FIELDS RETURNING Contact(Name)")).map(
        (record) => record.Name,
      ),
    ).toEqual(["Ada Lovelace", "Edsger Dijkstra"]);
    expect(
      (await search("FIND {(555) 987-6543} IN PHONE FIELDS RETURNING Contact(Name)")).map(
        (record) => record.Name,
      ),
    ).toEqual(["Alan Turing"]);
    expect(
      (await search("FIND {+442079460958} IN PHONE FIELDS RETURNING Contact(Name)")).map(
        (record) => record.Name,
      ),
    ).toEqual(["Grace Hopper"]);
    expect(await search("FIND {5550000000} IN PHONE FIELDS RETURNING Contact(Name)")).toEqual([]);
  });

  it("SOSL: names, emails, wildcards, WHERE and LIMIT inside RETURNING, errors", async () => {
    const search = async (sosl: string) =>
      ((await connection.search(sosl)) as unknown as { searchRecords: Row[] }).searchRecords;
    expect(
      (await search("FIND {ada} IN NAME FIELDS RETURNING Contact(Name)")).map((record) => record.Name),
    ).toEqual(["Ada Lovelace"]);
    expect(
      (await search("FIND {grace@acme.example} IN EMAIL FIELDS RETURNING Contact(Email)")).map(
        (record) => record.Email,
      ),
    ).toEqual(["grace@acme.example"]);
    expect(
      (await search("FIND {Dijk*} RETURNING Contact(LastName), Lead(LastName)")).map(
        (record) => record.LastName,
      ),
    ).toEqual(["Dijkstra"]);
    expect(
      (await search("FIND {acme} RETURNING Contact(LastName WHERE FirstName = 'Grace'), Account(Name)")).map(
        (record) => record.LastName ?? record.Name,
      ),
    ).toEqual(["Hopper", "Acme"]);
    expect(await search("FIND {acme} RETURNING Contact(LastName ORDER BY LastName LIMIT 1)")).toHaveLength(1);
    expect(Object.keys((await search("FIND {Babbage}"))[0] ?? {})).toEqual(["attributes", "Id"]);
    const short = await failure(connection.search("FIND {a} RETURNING Contact"));
    expect([short.errorCode, short.message]).toEqual([
      "MALFORMED_SEARCH",
      "No search term found. The search term must be at least 2 characters long.",
    ]);
    const field = await failure(connection.search("FIND {ada} RETURNING Contact(Nope)"));
    expect(field.errorCode).toBe("INVALID_FIELD");
  });
});
