import type { Connection } from "jsforce";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, connect } from "./salesforce-simulator.test-helpers.ts";
import { startSalesforceSimulator } from "./salesforce-simulator.ts";
import type { SalesforceSimulator } from "./simulator-types.ts";

const ROLLED_BACK = {
  statusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
  message: "Record rolled back because not all records were valid and the request was using AllOrNone header",
  fields: [],
};

describe("Salesforce simulator: sObject Collections and composite", () => {
  let simulator: SalesforceSimulator;
  let connection: Connection;

  beforeAll(async () => {
    simulator = await startSalesforceSimulator({
      customFields: { Contact: [{ name: "Linq_Id__c", type: "string", externalId: true, unique: true }] },
    });
    connection = connect(simulator);
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("creates up to 200 records of mixed types in one call, failures reported per record", async () => {
    const results = await connection.create("Contact", [
      { LastName: "One" },
      { FirstName: "No last name" },
      { LastName: "Three" },
    ]);
    expect(results).toEqual([
      { id: expect.stringMatching(/^003/), success: true, errors: [] },
      {
        success: false,
        errors: [
          {
            statusCode: "REQUIRED_FIELD_MISSING",
            message: "Required fields are missing: [LastName]",
            fields: ["LastName"],
          },
        ],
      },
      { id: expect.stringMatching(/^003/), success: true, errors: [] },
    ]);
    const mixed = await callApi(simulator, "POST", "/composite/sobjects", {
      body: {
        records: [
          { attributes: { type: "Account" }, Name: "Acme" },
          { attributes: { type: "Lead" }, LastName: "L", Company: "C" },
        ],
      },
    });
    expect(mixed.body.map((result: { id: string }) => result.id.slice(0, 3))).toEqual(["001", "00Q"]);
    const records = Array.from({ length: 200 }, (_, index) => ({
      attributes: { type: "Lead" },
      LastName: `Lead ${index}`,
      Company: "Bulk",
    }));
    expect((await callApi(simulator, "POST", "/composite/sobjects", { body: { records } })).status).toBe(200);
    expect(simulator.state.records("Lead")).toHaveLength(201);
    expect(simulator.state.apiUsage().used).toBe(3);
  });

  it("rejects more than 200 records with EXCEEDED_ID_LIMIT and writes nothing", async () => {
    const records = Array.from({ length: 201 }, (_, index) => ({
      attributes: { type: "Lead" },
      LastName: `Lead ${index}`,
      Company: "Bulk",
    }));
    const response = await callApi(simulator, "POST", "/composite/sobjects", { body: { records } });
    expect(response.status).toBe(400);
    expect(response.body).toEqual([
      {
        errorCode: "EXCEEDED_ID_LIMIT",
        message: "record limit reached. cannot submit more than 200 records into this call",
      },
    ]);
    const deletes = await callApi(
      simulator,
      "DELETE",
      `/composite/sobjects?ids=${Array.from({ length: 201 }, () => "00Q5g00000B0b01EAB").join(",")}`,
    );
    expect(deletes.body[0].errorCode).toBe("EXCEEDED_ID_LIMIT");
    expect(simulator.state.records("Lead")).toHaveLength(0);
  });

  it("allOrNone rolls every record back when one fails", async () => {
    const results = await connection.create(
      "Contact",
      [{ LastName: "Kept?" }, { LastName: "Bad", Email: "nope" }, { LastName: "Also kept?" }],
      { allOrNone: true },
    );
    expect(results).toEqual([
      { success: false, errors: [ROLLED_BACK] },
      {
        success: false,
        errors: [
          {
            statusCode: "INVALID_EMAIL_ADDRESS",
            message: "Email: invalid email address: nope",
            fields: ["Email"],
          },
        ],
      },
      { success: false, errors: [ROLLED_BACK] },
    ]);
    expect(simulator.state.records("Contact", { includeDeleted: true })).toHaveLength(0);
    const [first, second] = await connection.create("Contact", [{ LastName: "A" }, { LastName: "B" }], {
      allOrNone: true,
    });
    const updates = await connection.update(
      "Contact",
      [
        { Id: String(first?.id), Title: "Changed" },
        { Id: String(second?.id), LastName: null },
      ],
      { allOrNone: true },
    );
    expect(updates.map((result) => result.success)).toEqual([false, false]);
    expect(simulator.state.record("Contact", String(first?.id))?.Title).toBeNull();
    const deleted = await callApi(
      simulator,
      "DELETE",
      `/composite/sobjects?ids=${first?.id},00Q5g00000B0zzzEAB&allOrNone=true`,
    );
    expect(deleted.body[0]).toEqual({ success: false, errors: [ROLLED_BACK] });
    expect(simulator.state.records("Contact")).toHaveLength(2);
    expect(simulator.state.deletedRecords("Contact")).toEqual([]);
  });

  it("updates, upserts, retrieves and deletes collections", async () => {
    const created = await connection.create("Contact", [{ LastName: "A" }, { LastName: "B" }]);
    const ids = created.map((result) => String(result.id));
    const updated = await connection.update(
      "Contact",
      ids.map((id, index) => ({ Id: id, Title: `T${index}` })),
    );
    expect(updated.every((result) => result.success)).toBe(true);
    const missingId = await callApi(simulator, "PATCH", "/composite/sobjects", {
      body: { records: [{ attributes: { type: "Contact" }, Title: "x" }] },
    });
    expect(missingId.body[0].errors[0].statusCode).toBe("MISSING_ARGUMENT");
    const retrieved = await connection.retrieve("Contact", [...ids, "0035g00000B0zzzAAB"], {
      fields: ["Id", "Title"],
    });
    expect(retrieved.map((record) => record?.Title ?? null)).toEqual(["T0", "T1", null]);
    const upserted = await connection.upsert(
      "Contact",
      [
        { Linq_Id__c: "l-1", LastName: "U1" },
        { Linq_Id__c: "l-2", LastName: "U2" },
      ],
      "Linq_Id__c",
    );
    expect(upserted.map((result) => (result as { created: boolean }).created)).toEqual([true, true]);
    const again = await connection.upsert("Contact", [{ Linq_Id__c: "l-1", LastName: "U1b" }], "Linq_Id__c");
    expect(again[0]).toMatchObject({ success: true, created: false });
    const destroyed = await connection.destroy("Contact", ids);
    expect(destroyed).toEqual(ids.map((id) => ({ id, success: true, errors: [] })));
    expect(simulator.state.records("Contact").map((record) => record.LastName)).toEqual(["U1b", "U2"]);
  });

  it("composite runs subrequests in order with @{reference} values", async () => {
    const response = await connection.requestPost<{
      compositeResponse: {
        // biome-ignore lint/suspicious/noExplicitAny: subrequest bodies of several resources, asserted field by field
        body: any;
        httpStatusCode: number;
        referenceId: string;
        httpHeaders: Record<string, string>;
      }[];
    }>("/composite", {
      compositeRequest: [
        {
          method: "POST",
          url: "/services/data/v62.0/sobjects/Account",
          referenceId: "account",
          body: { Name: "Acme" },
        },
        {
          method: "POST",
          url: "/services/data/v62.0/sobjects/Contact",
          referenceId: "contact",
          body: { LastName: "Ng", AccountId: "@{account.id}" },
        },
        {
          method: "GET",
          url: "/services/data/v62.0/query?q=SELECT+Id,+Account.Name+FROM+Contact+WHERE+AccountId+=+'@{account.id}'",
          referenceId: "lookup",
        },
        {
          method: "POST",
          url: "/services/data/v62.0/sobjects/Task",
          referenceId: "task",
          body: { Subject: "Hello", WhoId: "@{lookup.records[0].Id}" },
        },
        {
          method: "PATCH",
          url: "/services/data/v62.0/sobjects/Contact/@{contact.id}",
          referenceId: "update",
          body: { Title: "CTO" },
        },
      ],
    });
    const results = response.compositeResponse;
    expect(results.map((result) => [result.referenceId, result.httpStatusCode])).toEqual([
      ["account", 201],
      ["contact", 201],
      ["lookup", 200],
      ["task", 201],
      ["update", 204],
    ]);
    expect(results[0]?.httpHeaders.Location).toBe(
      `/services/data/v62.0/sobjects/Account/${results[0]?.body.id}`,
    );
    expect(results[2]?.body.records[0].Account.Name).toBe("Acme");
    expect(results[4]?.body).toBeNull();
    const contactId = results[1]?.body.id;
    expect(simulator.state.record("Contact", contactId)).toMatchObject({
      Title: "CTO",
      AccountId: results[0]?.body.id,
    });
    expect(simulator.state.records("Task")[0]?.WhoId).toBe(contactId);
    expect(simulator.state.apiUsage().used).toBe(1);
  });

  it("composite without allOrNone keeps going; references to failed results halt", async () => {
    const response = await callApi(simulator, "POST", "/composite", {
      body: {
        compositeRequest: [
          {
            method: "POST",
            url: "/services/data/v62.0/sobjects/Lead",
            referenceId: "badLead",
            body: { LastName: "No company" },
          },
          {
            method: "POST",
            url: "/services/data/v62.0/sobjects/Task",
            referenceId: "task",
            body: { Subject: "x", WhoId: "@{badLead.id}" },
          },
          {
            method: "POST",
            url: "/services/data/v62.0/sobjects/Contact",
            referenceId: "contact",
            body: { LastName: "Fine" },
          },
        ],
      },
    });
    expect(response.body.compositeResponse).toEqual([
      {
        body: [
          {
            errorCode: "REQUIRED_FIELD_MISSING",
            message: "Required fields are missing: [Company]",
            fields: ["Company"],
          },
        ],
        httpHeaders: {},
        httpStatusCode: 400,
        referenceId: "badLead",
      },
      {
        body: [
          {
            errorCode: "PROCESSING_HALTED",
            message: "Invalid reference specified. No value for badLead.id found in badLead.",
          },
        ],
        httpHeaders: {},
        httpStatusCode: 400,
        referenceId: "task",
      },
      expect.objectContaining({ httpStatusCode: 201, referenceId: "contact" }),
    ]);
    expect(simulator.state.records("Contact")).toHaveLength(1);
  });

  it("composite with allOrNone rolls back and halts the rest", async () => {
    const response = await callApi(simulator, "POST", "/composite", {
      body: {
        allOrNone: true,
        compositeRequest: [
          {
            method: "POST",
            url: "/services/data/v62.0/sobjects/Account",
            referenceId: "account",
            body: { Name: "Acme" },
          },
          {
            method: "POST",
            url: "/services/data/v62.0/sobjects/Contact",
            referenceId: "contact",
            body: { FirstName: "No last name", AccountId: "@{account.id}" },
          },
          { method: "GET", url: "/services/data/v62.0/limits", referenceId: "limits" },
        ],
      },
    });
    const halted = {
      errorCode: "PROCESSING_HALTED",
      message: "The transaction was rolled back since another operation in the same transaction failed.",
    };
    expect(
      response.body.compositeResponse.map(
        (result: { httpStatusCode: number; body: { errorCode: string }[] }) => [
          result.httpStatusCode,
          result.body[0]?.errorCode,
        ],
      ),
    ).toEqual([
      [400, "PROCESSING_HALTED"],
      [400, "REQUIRED_FIELD_MISSING"],
      [400, "PROCESSING_HALTED"],
    ]);
    expect(response.body.compositeResponse[0].body).toEqual([halted]);
    expect(simulator.state.records("Account")).toHaveLength(0);
  });

  it("validates the composite request itself", async () => {
    const tooMany = Array.from({ length: 26 }, (_, index) => ({
      method: "GET",
      url: "/services/data/v62.0/limits",
      referenceId: `r${index}`,
    }));
    expect(
      (await callApi(simulator, "POST", "/composite", { body: { compositeRequest: tooMany } })).body[0],
    ).toMatchObject({ errorCode: "INVALID_INPUT" });
    const duplicate = [
      { method: "GET", url: "/services/data/v62.0/limits", referenceId: "same" },
      { method: "GET", url: "/services/data/v62.0/limits", referenceId: "same" },
    ];
    expect(
      (await callApi(simulator, "POST", "/composite", { body: { compositeRequest: duplicate } })).status,
    ).toBe(400);
    const unknown = await callApi(simulator, "POST", "/composite", {
      body: { compositeRequest: [], extra: true },
    });
    expect(unknown.body[0].errorCode).toBe("JSON_PARSER_ERROR");
  });
});
