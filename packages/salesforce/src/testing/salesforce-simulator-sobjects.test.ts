import type { Connection } from "jsforce";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callApi, connect, failure, manualClock } from "./salesforce-simulator.test-helpers.ts";
import { startSalesforceSimulator } from "./salesforce-simulator.ts";
import { SalesforceRecordError } from "./simulator-errors.ts";
import type { SalesforceSimulator } from "./simulator-types.ts";

describe("Salesforce simulator: sObjects", () => {
  let simulator: SalesforceSimulator;
  let connection: Connection;
  const clock = manualClock();

  beforeAll(async () => {
    simulator = await startSalesforceSimulator({
      now: clock.now,
      customFields: {
        Contact: [{ name: "Linq_Id__c", type: "string", externalId: true, unique: true, label: "Linq ID" }],
        Task: [{ name: "Linq_Message_Id__c", type: "string", externalId: true }],
      },
      picklists: { "Task.TaskSubtype": ["Task", "Email", "Call", "Text"] },
      duplicateRules: { Lead: ["Email"] },
    });
    connection = connect(simulator);
  });
  afterAll(async () => {
    await simulator.close();
  });
  beforeEach(() => {
    clock.set("2026-03-02T10:00:00Z");
    simulator.reset();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("creates, retrieves, updates and deletes with system fields maintained", async () => {
    const created = await connection
      .sobject("Contact")
      .create({ FirstName: "Ada", LastName: "Ng", MobilePhone: "(555) 123-4567", Email: "ada@example.com" });
    expect(created).toEqual({ id: expect.stringMatching(/^003[A-Za-z0-9]{15}$/), success: true, errors: [] });
    const id = String(created.id);
    const integration = simulator.users.list()[0]?.id;
    const record = await connection.sobject("Contact").retrieve(id);
    expect(record).toMatchObject({
      attributes: { type: "Contact", url: `/services/data/v62.0/sobjects/Contact/${id}` },
      Id: id,
      Name: "Ada Ng",
      MobilePhone: "(555) 123-4567",
      IsDeleted: false,
      OwnerId: integration,
      CreatedById: integration,
      LastModifiedById: integration,
      CreatedDate: "2026-03-02T10:00:00.000+0000",
      SystemModstamp: "2026-03-02T10:00:00.000+0000",
      HasOptedOutOfEmail: false,
      Linq_Id__c: null,
    });
    clock.advance(65_000);
    const updated = await connection
      .sobject("Contact")
      .update({ Id: id, Title: "CTO", MobilePhone: "555.123.9999" });
    expect(updated).toEqual({ id, success: true, errors: [] });
    expect(simulator.state.record("Contact", id)).toMatchObject({
      Title: "CTO",
      MobilePhone: "555.123.9999",
      LastModifiedDate: "2026-03-02T10:01:05.000+0000",
      CreatedDate: "2026-03-02T10:00:00.000+0000",
    });
    const partial = await connection.sobject("Contact").retrieve(id, { fields: ["Name", "Owner.Email"] });
    expect(partial).toEqual({
      attributes: { type: "Contact", url: `/services/data/v62.0/sobjects/Contact/${id}` },
      Id: id,
      Name: "Ada Ng",
      Owner: {
        attributes: { type: "User", url: `/services/data/v62.0/sobjects/User/${integration}` },
        Email: "integration@example.com",
      },
    });
    await connection.sobject("Contact").destroy(id);
    expect(simulator.state.records("Contact")).toHaveLength(0);
    expect(simulator.state.record("Contact", id)?.IsDeleted).toBe(true);
    const gone = await failure(connection.sobject("Contact").retrieve(id));
    expect([gone.errorCode, gone.message]).toEqual(["ENTITY_IS_DELETED", "entity is deleted"]);
    expect((await failure(connection.sobject("Contact").update({ Id: id, Title: "x" }))).errorCode).toBe(
      "ENTITY_IS_DELETED",
    );
    expect((await failure(connection.sobject("Contact").destroy(id))).errorCode).toBe("ENTITY_IS_DELETED");
  });

  it("accepts 15-character and case-mangled 18-character ids", async () => {
    const { id } = await connection.sobject("Lead").create({ LastName: "Short", Company: "Acme" });
    const id18 = String(id);
    expect((await connection.sobject("Lead").retrieve(id18.slice(0, 15))).Id).toBe(id18);
    const mangled = `${id18.slice(0, 15).toLowerCase()}${id18.slice(15)}`;
    expect((await connection.sobject("Lead").retrieve(mangled)).Id).toBe(id18);
    const malformed = await callApi(simulator, "GET", "/sobjects/Lead/xyz");
    expect(malformed.status).toBe(400);
    expect(malformed.body[0].errorCode).toBe("MALFORMED_ID");
    const missing = await callApi(simulator, "GET", `/sobjects/Lead/00Q5g00000B0zzzEAB`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual([
      { errorCode: "NOT_FOUND", message: "The requested resource does not exist" },
    ]);
    expect((await callApi(simulator, "GET", `/sobjects/Account/${id18}`)).status).toBe(404);
  });

  it("rejects missing required fields, unknown fields and read-only fields like Salesforce", async () => {
    const noLastName = await callApi(simulator, "POST", "/sobjects/Lead", { body: { FirstName: "A" } });
    expect(noLastName.status).toBe(400);
    expect(noLastName.body).toEqual([
      {
        errorCode: "REQUIRED_FIELD_MISSING",
        message: "Required fields are missing: [LastName, Company]",
        fields: ["LastName", "Company"],
      },
    ]);
    const unknown = await failure(connection.sobject("Contact").create({ LastName: "X", Foo: "bar" }));
    expect([unknown.errorCode, unknown.message]).toEqual([
      "INVALID_FIELD",
      "No such column 'Foo' on sobject of type Contact",
    ]);
    const readOnly = await callApi(simulator, "POST", "/sobjects/Contact", {
      body: { LastName: "X", CreatedDate: "2026-01-01T00:00:00Z" },
    });
    expect(readOnly.body[0]).toMatchObject({
      errorCode: "INVALID_FIELD_FOR_INSERT_UPDATE",
      fields: ["CreatedDate"],
    });
    expect(readOnly.body[0].message).toMatch(/^Unable to create\/update fields: CreatedDate\./);
    const { id } = await connection.sobject("Contact").create({ LastName: "Kept" });
    const cleared = await failure(connection.sobject("Contact").update({ Id: String(id), LastName: null }));
    expect(cleared.errorCode).toBe("REQUIRED_FIELD_MISSING");
    const badJson = await callApi(simulator, "POST", "/sobjects/Contact", {
      body: "{ not json",
      headers: { "content-type": "application/json" },
    });
    expect(badJson.body[0].errorCode).toBe("JSON_PARSER_ERROR");
    const wrongType = await callApi(simulator, "POST", "/sobjects/Contact", {
      body: { LastName: "X", HasOptedOutOfEmail: "yes" },
    });
    expect(wrongType.body[0]).toMatchObject({ errorCode: "JSON_PARSER_ERROR" });
    expect(simulator.state.records("Contact")).toHaveLength(1);
  });

  it("field names are case-insensitive and stored with their describe casing", async () => {
    const { id } = await connection
      .sobject("contact")
      .create({ lastname: "Lower", MOBILEPHONE: "+1 555 000 1111" });
    expect(simulator.state.record("Contact", String(id))).toMatchObject({
      LastName: "Lower",
      MobilePhone: "+1 555 000 1111",
    });
  });

  it("validates types: email, dates, picklists, lengths and references", async () => {
    const email = await callApi(simulator, "POST", "/sobjects/Contact", {
      body: { LastName: "X", Email: "not-an-email" },
    });
    expect(email.body).toEqual([
      {
        errorCode: "INVALID_EMAIL_ADDRESS",
        message: "Email: invalid email address: not-an-email",
        fields: ["Email"],
      },
    ]);
    const status = await callApi(simulator, "POST", "/sobjects/Lead", {
      body: { LastName: "X", Company: "Y", Status: "Hot" },
    });
    expect(status.body).toEqual([
      {
        errorCode: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        message: "bad value for restricted picklist field: Hot",
        fields: ["Status"],
      },
    ]);
    const subtype = await callApi(simulator, "POST", "/sobjects/Task", {
      body: { Subject: "x", TaskSubtype: "Fax" },
    });
    expect(subtype.body[0].errorCode).toBe("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    expect(
      (await callApi(simulator, "POST", "/sobjects/Task", { body: { Subject: "x", TaskSubtype: "Text" } }))
        .status,
    ).toBe(201);
    const date = await callApi(simulator, "POST", "/sobjects/Task", {
      body: { Subject: "x", ActivityDate: "2026-02-30" },
    });
    expect(date.body[0].errorCode).toBe("JSON_PARSER_ERROR");
    const long = await callApi(simulator, "POST", "/sobjects/Contact", {
      body: { LastName: "x".repeat(81) },
    });
    expect(long.body[0]).toMatchObject({ errorCode: "STRING_TOO_LONG", fields: ["LastName"] });
    const account = await connection.sobject("Account").create({ Name: "Acme" });
    const wrongTarget = await callApi(simulator, "POST", "/sobjects/Task", {
      body: { Subject: "x", WhoId: account.id },
    });
    expect(wrongTarget.body[0]).toMatchObject({ errorCode: "FIELD_INTEGRITY_EXCEPTION", fields: ["WhoId"] });
    const missingTarget = await callApi(simulator, "POST", "/sobjects/Contact", {
      body: { LastName: "x", AccountId: "0015g00000B0zzzAAB" },
    });
    expect(missingTarget.body).toEqual([
      {
        errorCode: "INVALID_CROSS_REFERENCE_KEY",
        message: "invalid cross reference id",
        fields: ["AccountId"],
      },
    ]);
    const malformed = await callApi(simulator, "POST", "/sobjects/Contact", {
      body: { LastName: "x", AccountId: "abc" },
    });
    expect(malformed.body[0]).toMatchObject({ errorCode: "MALFORMED_ID", fields: ["AccountId"] });
  });

  it("Tasks: defaults, WhoId/WhatId, derived AccountId and IsClosed, create-only TaskSubtype", async () => {
    const account = await connection.sobject("Account").create({ Name: "Acme" });
    const contact = await connection.sobject("Contact").create({ LastName: "Ng", AccountId: account.id });
    const task = await connection.sobject("Task").create({
      Subject: "Text: Is my order ready?",
      WhoId: contact.id,
      TaskSubtype: "Call",
      CallType: "Inbound",
      CallDurationInSeconds: 42,
      ActivityDate: "2026-03-02",
    });
    const id = String(task.id);
    expect(simulator.state.record("Task", id)).toMatchObject({
      Status: "Not Started",
      Priority: "Normal",
      IsClosed: false,
      AccountId: account.id,
      CallDurationInSeconds: 42,
    });
    await connection.sobject("Task").update({ Id: id, Status: "Completed" });
    expect(simulator.state.record("Task", id)).toMatchObject({
      IsClosed: true,
      CompletedDateTime: "2026-03-02T10:00:00.000+0000",
    });
    const subtype = await failure(connection.sobject("Task").update({ Id: id, TaskSubtype: "Email" }));
    expect(subtype.errorCode).toBe("INVALID_FIELD_FOR_INSERT_UPDATE");
    await connection.sobject("Contact").destroy(String(contact.id));
    expect(simulator.state.record("Task", id)?.IsDeleted).toBe(true);
  });

  it("Contacts have every standard phone field, AssistantPhone included (SOQL and SOSL see it)", async () => {
    const created = await connection
      .sobject("Contact")
      .create({ LastName: "Ng", AssistantName: "Bea", AssistantPhone: "(555) 765-4321" });
    const rows = await connection.query<{ AssistantPhone: string }>(
      "SELECT Id, Phone, MobilePhone, HomePhone, OtherPhone, AssistantPhone FROM Contact",
    );
    expect(rows.records.map((row) => row.AssistantPhone)).toEqual(["(555) 765-4321"]);
    const found = await connection.search("FIND {5557654321} IN PHONE FIELDS RETURNING Contact(Id)");
    expect(found.searchRecords.map((record) => record.Id)).toEqual([created.id]);
  });

  it("describe has the fields, picklist values and custom fields a connector checks", async () => {
    const contact = await connection.describe("Contact");
    const linqId = contact.fields.find((field) => field.name === "Linq_Id__c");
    expect(linqId).toMatchObject({
      type: "string",
      custom: true,
      externalId: true,
      unique: true,
      createable: true,
      updateable: true,
      nillable: true,
      label: "Linq ID",
    });
    expect(contact.fields.find((field) => field.name === "LastName")).toMatchObject({
      nillable: false,
      createable: true,
      length: 80,
    });
    expect(contact.fields.find((field) => field.name === "MobilePhone")?.type).toBe("phone");
    expect(contact).toMatchObject({ name: "Contact", keyPrefix: "003", createable: true, queryable: true });
    const task = await connection.describe("Task");
    const subtype = task.fields.find((field) => field.name === "TaskSubtype");
    expect(subtype?.picklistValues?.map((value) => value.value)).toEqual(["Task", "Email", "Call", "Text"]);
    expect(subtype).toMatchObject({ restrictedPicklist: true, updateable: false });
    expect(task.fields.find((field) => field.name === "WhoId")?.referenceTo).toEqual(["Contact", "Lead"]);
    const global = await connection.describeGlobal();
    expect(global.sobjects.map((object) => object.name).sort()).toEqual([
      "Account",
      "Contact",
      "Lead",
      "Task",
      "User",
    ]);
    expect((await callApi(simulator, "GET", "/sobjects/Opportunity/describe")).status).toBe(404);
  });

  it("upserts by external id: creates, updates, and rejects duplicates of a unique field", async () => {
    const first = await connection
      .sobject("Contact")
      .upsert({ Linq_Id__c: "linq-1", LastName: "Ng" }, "Linq_Id__c");
    expect(first).toMatchObject({ success: true, created: true });
    const second = await connection
      .sobject("Contact")
      .upsert({ Linq_Id__c: "linq-1", LastName: "Ng", Title: "CTO" }, "Linq_Id__c");
    expect(second).toMatchObject({ id: first.id, success: true, created: false });
    expect(simulator.state.records("Contact")).toHaveLength(1);
    expect(
      (await connection.sobject("Contact").findOne({ Linq_Id__c: "LINQ-1" }, ["Id", "Title"]))?.Title,
    ).toBe("CTO");
    const duplicate = await callApi(simulator, "POST", "/sobjects/Contact", {
      body: { LastName: "Other", Linq_Id__c: "LINQ-1" },
    });
    expect(duplicate.body).toEqual([
      {
        errorCode: "DUPLICATE_VALUE",
        message: `duplicate value found: Linq_Id__c duplicates value on record with id: ${first.id}`,
        fields: ["Linq_Id__c"],
      },
    ]);
    const byKey = await callApi(simulator, "GET", "/sobjects/Contact/Linq_Id__c/linq-1");
    expect(byKey.body.Id).toBe(first.id);
    expect(
      (await callApi(simulator, "PATCH", "/sobjects/Contact/LastName/Ng", { body: { Title: "x" } })).status,
    ).toBe(404);
    await connection.sobject("Task").create({ Subject: "a", Linq_Message_Id__c: "m-1" });
    await connection.sobject("Task").create({ Subject: "b", Linq_Message_Id__c: "m-1" });
    const ambiguous = await callApi(simulator, "PATCH", "/sobjects/Task/Linq_Message_Id__c/m-1", {
      body: { Subject: "c" },
    });
    expect(ambiguous.status).toBe(300);
    expect(ambiguous.body).toHaveLength(2);
  });

  it("duplicate rules answer DUPLICATES_DETECTED unless the request allows saving", async () => {
    await connection.sobject("Lead").create({ LastName: "A", Company: "Acme", Email: "lead@example.com" });
    const duplicate = await callApi(simulator, "POST", "/sobjects/Lead", {
      body: { LastName: "B", Company: "Acme", Email: "LEAD@example.com" },
    });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body[0]).toMatchObject({
      errorCode: "DUPLICATES_DETECTED",
      message: "Use one of these records?",
    });
    expect(duplicate.body[0].duplicateResult.matchResults[0].matchRecords).toHaveLength(1);
    const allowed = await callApi(simulator, "POST", "/sobjects/Lead", {
      body: { LastName: "B", Company: "Acme", Email: "LEAD@example.com" },
      headers: { "Sforce-Duplicate-Rule-Header": "allowSave=true" },
    });
    expect(allowed.status).toBe(201);
  });

  it("users act in the UI as someone else, advancing SystemModstamp", async () => {
    const { id } = await connection.sobject("Contact").create({ LastName: "Ng" });
    clock.advance(120_000);
    const rep = simulator.users.list()[1];
    const edited = simulator.users.update("Contact", String(id), { Title: "VP" });
    expect(edited).toMatchObject({
      LastModifiedById: rep?.id,
      SystemModstamp: "2026-03-02T10:02:00.000+0000",
      Title: "VP",
    });
    const lead = simulator.users.create(
      "Lead",
      { LastName: "Walk-in", Company: "Cafe" },
      { as: "integration@example.com.simulator" },
    );
    expect(lead.CreatedById).toBe(simulator.users.list()[0]?.id);
    expect(() => simulator.users.create("Lead", { LastName: "No company" })).toThrow(SalesforceRecordError);
    expect(() => simulator.users.create("Opportunity", {})).toThrow(/Unknown object/);
    simulator.users.delete("Lead", lead.Id);
    expect(simulator.state.deletedRecords("Lead")).toEqual([
      { id: lead.Id, deletedDate: "2026-03-02T10:02:00.000+0000" },
    ]);
  });

  it("User is read-only through the API", async () => {
    const created = await callApi(simulator, "POST", "/sobjects/User", { body: { Username: "x@y.z" } });
    expect(created.body[0].errorCode).toBe("INVALID_TYPE_FOR_OPERATION");
    const users = await connection.query<{ Username: string }>("SELECT Username FROM User ORDER BY Username");
    expect(users.records.map((user) => user.Username)).toEqual([
      "integration@example.com.simulator",
      "rep@example.com.simulator",
    ]);
  });

  it("answers 405 for a method a resource does not allow", async () => {
    const response = await callApi(simulator, "PUT", "/sobjects/Contact", { body: {} });
    expect(response.status).toBe(405);
    expect(response.body[0].errorCode).toBe("METHOD_NOT_ALLOWED");
  });
});
