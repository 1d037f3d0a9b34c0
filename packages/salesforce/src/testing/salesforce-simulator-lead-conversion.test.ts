import type { Connection } from "jsforce";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callApi, connect, failure, manualClock } from "./salesforce-simulator.test-helpers.ts";
import { startSalesforceSimulator } from "./salesforce-simulator.ts";
import type { SalesforceSimulator } from "./simulator-types.ts";

describe("Salesforce simulator: lead conversion", () => {
  let simulator: SalesforceSimulator;
  let connection: Connection;
  const clock = manualClock();

  beforeAll(async () => {
    simulator = await startSalesforceSimulator({ now: clock.now });
    connection = connect(simulator);
  });
  afterAll(async () => {
    await simulator.close();
  });
  beforeEach(() => {
    clock.set("2026-03-02T10:00:00Z");
    simulator.reset();
  });

  it("creates the Account and Contact, marks the Lead converted and moves its Tasks", async () => {
    const lead = await connection.sobject("Lead").create({
      FirstName: "Jane",
      LastName: "Doe",
      Company: "Acme",
      Email: "jane@acme.test",
      Phone: "(555) 123-4567",
      MobilePhone: "+1 555 987 6543",
      Title: "CTO",
      City: "Austin",
    });
    const leadId = String(lead.id);
    const open = await connection.sobject("Task").create({ WhoId: leadId, Subject: "Call back" });
    const done = await connection
      .sobject("Task")
      .create({ WhoId: leadId, Subject: "Texted", Status: "Completed" });
    const before = simulator.state.record("Lead", leadId)?.SystemModstamp;
    clock.set("2026-03-02T11:30:05Z");

    const conversion = simulator.users.convertLead(leadId);

    const result = await connection.query<Record<string, unknown>>(
      `SELECT IsConverted, ConvertedContactId, ConvertedAccountId, ConvertedDate, Status, SystemModstamp, LastModifiedById, ConvertedContact.Name, ConvertedAccount.Name FROM Lead WHERE Id = '${leadId}'`,
    );
    const converted = result.records[0];
    expect(converted).toMatchObject({
      IsConverted: true,
      ConvertedContactId: conversion.contactId,
      ConvertedAccountId: conversion.accountId,
      ConvertedDate: "2026-03-02",
      Status: "Closed - Converted",
      SystemModstamp: "2026-03-02T11:30:05.000+0000",
      LastModifiedById: simulator.users.list()[1]?.id,
      ConvertedContact: { Name: "Jane Doe" },
      ConvertedAccount: { Name: "Acme" },
    });
    expect(converted?.SystemModstamp).not.toBe(before);
    expect(conversion.leadId).toBe(leadId);
    expect(simulator.state.record("Contact", conversion.contactId)).toMatchObject({
      FirstName: "Jane",
      LastName: "Doe",
      Email: "jane@acme.test",
      Phone: "(555) 123-4567",
      MobilePhone: "+1 555 987 6543",
      Title: "CTO",
      MailingCity: "Austin",
      AccountId: conversion.accountId,
    });
    expect(simulator.state.records("Account").map((account) => account.Name)).toEqual(["Acme"]);
    const tasks = await connection.query<{ Id: string; WhoId: string; AccountId: string; IsClosed: boolean }>(
      "SELECT Id, WhoId, AccountId, IsClosed FROM Task ORDER BY CreatedDate, Id",
    );
    expect(
      tasks.records.map(({ Id, WhoId, AccountId, IsClosed }) => ({ Id, WhoId, AccountId, IsClosed })),
    ).toEqual([
      { Id: open.id, WhoId: conversion.contactId, AccountId: conversion.accountId, IsClosed: false },
      { Id: done.id, WhoId: conversion.contactId, AccountId: conversion.accountId, IsClosed: true },
    ]);
    // The change is visible to Get Updated like any other edit.
    clock.set("2026-03-02T11:32:00Z");
    const updated = await connection.sobject("Lead").updated("2026-03-02T11:00:00Z", "2026-03-02T11:31:00Z");
    expect(updated.ids).toEqual([leadId]);
  });

  it("a converted Lead refuses API updates (400 CANNOT_UPDATE_CONVERTED_LEAD), and Tasks cannot name it", async () => {
    const lead = simulator.users.create("Lead", { LastName: "Roe", Company: "Initech" });
    simulator.users.convertLead(lead.Id);

    const refused = await failure(connection.sobject("Lead").update({ Id: lead.Id, Title: "VP" }));
    expect(refused.errorCode).toBe("CANNOT_UPDATE_CONVERTED_LEAD");
    const raw = await callApi(simulator, "PATCH", `/sobjects/Lead/${lead.Id}`, { body: { Title: "VP" } });
    expect(raw.status).toBe(400);
    expect(raw.body).toEqual([
      { errorCode: "CANNOT_UPDATE_CONVERTED_LEAD", message: "cannot reference converted lead" },
    ]);
    const collection = await callApi(simulator, "PATCH", "/composite/sobjects", {
      body: { allOrNone: false, records: [{ attributes: { type: "Lead" }, id: lead.Id, Title: "VP" }] },
    });
    expect(collection.body).toEqual([
      {
        success: false,
        errors: [
          {
            statusCode: "CANNOT_UPDATE_CONVERTED_LEAD",
            message: "cannot reference converted lead",
            fields: [],
          },
        ],
      },
    ]);
    const task = await failure(connection.sobject("Task").create({ WhoId: lead.Id, Subject: "Hi" }));
    expect(task.errorCode).toBe("CANNOT_UPDATE_CONVERTED_LEAD");
    expect(() => simulator.users.convertLead(lead.Id)).toThrow(/cannot reference converted lead/);
    expect(() => simulator.users.update("Lead", lead.Id, { Title: "VP" })).toThrow(/converted lead/);
    expect(simulator.state.record("Lead", lead.Id)?.Title).toBeNull();
    expect(simulator.state.records("Task")).toHaveLength(0);
    // The conversion fields are read-only.
    const written = await failure(
      connection.sobject("Lead").create({ LastName: "New", Company: "X", ConvertedDate: "2026-01-01" }),
    );
    expect(written.errorCode).toBe("INVALID_FIELD_FOR_INSERT_UPDATE");
    // Reads still work, and the Lead can be deleted.
    expect((await connection.sobject("Lead").retrieve(lead.Id)).IsConverted).toBe(true);
    await connection.sobject("Lead").destroy(lead.Id);
    expect(simulator.state.records("Lead")).toHaveLength(0);
  });

  it("merges into an existing Contact and Account: only the Contact's blank fields are filled", async () => {
    const account = simulator.users.create("Account", { Name: "Globex" });
    const contact = simulator.users.create("Contact", {
      LastName: "Smith",
      Email: "old@globex.test",
      AccountId: account.Id,
    });
    const lead = simulator.users.create("Lead", {
      FirstName: "Ann",
      LastName: "Smith",
      Company: "Globex Inc",
      Email: "ann@globex.test",
      MobilePhone: "5551112222",
    });

    const conversion = simulator.users.convertLead(lead.Id, { contactId: contact.Id });

    expect(conversion).toEqual({ leadId: lead.Id, contactId: contact.Id, accountId: account.Id });
    expect(simulator.state.records("Contact")).toHaveLength(1);
    expect(simulator.state.records("Account")).toHaveLength(1);
    expect(simulator.state.record("Contact", contact.Id)).toMatchObject({
      FirstName: "Ann",
      Email: "old@globex.test",
      MobilePhone: "5551112222",
      AccountId: account.Id,
    });
    // A conversion that fails leaves nothing behind.
    const other = simulator.users.create("Lead", { LastName: "Nobody", Company: "Hooli" });
    expect(() => simulator.users.convertLead(other.Id, { accountId: "001000000000000AAA" })).toThrow();
    expect(simulator.state.record("Lead", other.Id)?.IsConverted).toBe(false);
    expect(simulator.state.records("Contact")).toHaveLength(1);
  });
});
