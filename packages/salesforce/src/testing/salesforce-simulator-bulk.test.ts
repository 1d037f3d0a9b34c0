import type { Connection } from "jsforce";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callApi, connect } from "./salesforce-simulator.test-helpers.ts";
import { startSalesforceSimulator } from "./salesforce-simulator.ts";
import type { SalesforceSimulator } from "./simulator-types.ts";

async function waitForState(
  simulator: SalesforceSimulator,
  jobId: string,
  states: string[],
): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const job = await callApi(simulator, "GET", `/jobs/ingest/${jobId}`);
    if (states.includes(job.body.state)) return job.body;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`job ${jobId} never reached ${states.join("/")}`);
}

describe("Salesforce simulator: Bulk API 2.0 ingest", () => {
  let simulator: SalesforceSimulator;
  let connection: Connection;

  beforeAll(async () => {
    simulator = await startSalesforceSimulator({
      bulkProcessingDelayMs: 20,
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

  it("inserts a backfill through jsforce's bulk2 with per-row results", async () => {
    const input = Array.from({ length: 250 }, (_, index) => ({
      LastName: `Contact ${index}`,
      MobilePhone: `+1555000${String(index).padStart(4, "0")}`,
      Email: index === 7 ? "broken" : `c${index}@example.com`,
    }));
    const results = await connection.bulk2.loadAndWaitForResults({
      object: "Contact",
      operation: "insert",
      input,
      pollInterval: 10,
      pollTimeout: 10_000,
    });
    expect(results.successfulResults).toHaveLength(249);
    expect(results.successfulResults[0]).toMatchObject({
      sf__Created: "true",
      LastName: "Contact 0",
      MobilePhone: "+15550000000",
    });
    expect(results.failedResults).toEqual([
      {
        sf__Id: "",
        sf__Error: "INVALID_EMAIL_ADDRESS:Email: invalid email address: broken:Email --",
        LastName: "Contact 7",
        MobilePhone: "+15550000007",
        Email: "broken",
      },
    ]);
    expect(results.unprocessedRecords).toEqual([]);
    expect(simulator.state.records("Contact")).toHaveLength(249);
    const [job] = simulator.state.bulkJobs();
    expect(job).toMatchObject({
      object: "Contact",
      operation: "insert",
      state: "JobComplete",
      numberRecordsProcessed: 250,
      numberRecordsFailed: 1,
      jobType: "V2Ingest",
    });
  });

  it("walks the job states over raw HTTP: Open → UploadComplete → InProgress → JobComplete", async () => {
    const created = await callApi(simulator, "POST", "/jobs/ingest", {
      body: { object: "Contact", operation: "upsert", externalIdFieldName: "Linq_Id__c", lineEnding: "LF" },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      state: "Open",
      contentType: "CSV",
      columnDelimiter: "COMMA",
      apiVersion: 62,
      externalIdFieldName: "Linq_Id__c",
    });
    const jobId = created.body.id as string;
    expect(jobId).toMatch(/^750/);
    simulator.users.create("Contact", { LastName: "Existing", Linq_Id__c: "l-1" });
    const csv = 'Linq_Id__c,LastName,Title\nl-1,Existing,"CEO, founder"\nl-2,"New ""quoted""",#N/A\n';
    const upload = await callApi(simulator, "PUT", `/jobs/ingest/${jobId}/batches`, {
      body: csv,
      headers: { "content-type": "text/csv" },
    });
    expect(upload.status).toBe(201);
    expect(
      (
        await callApi(simulator, "PUT", `/jobs/ingest/${jobId}/batches`, {
          body: csv,
          headers: { "content-type": "text/csv" },
        })
      ).body[0].errorCode,
    ).toBe("INVALIDJOBSTATE");
    const closed = await callApi(simulator, "PATCH", `/jobs/ingest/${jobId}`, {
      body: { state: "UploadComplete" },
    });
    expect(closed.body.state).toBe("UploadComplete");
    const progressing = await waitForState(simulator, jobId, ["InProgress", "JobComplete"]);
    expect(["InProgress", "JobComplete"]).toContain(progressing.state);
    const done = await waitForState(simulator, jobId, ["JobComplete"]);
    expect(done).toMatchObject({ numberRecordsProcessed: 2, numberRecordsFailed: 0 });
    const successful = await callApi(simulator, "GET", `/jobs/ingest/${jobId}/successfulResults/`);
    expect(successful.headers.get("content-type")).toBe("text/csv");
    const lines = successful.text.trim().split("\n");
    expect(lines[0]).toBe('"sf__Id","sf__Created","Linq_Id__c","LastName","Title"');
    expect(lines[1]).toMatch(/^"003[A-Za-z0-9]{15}","false","l-1","Existing","CEO, founder"$/);
    expect(lines[2]).toMatch(/^"003[A-Za-z0-9]{15}","true","l-2","New ""quoted""","#N\/A"$/);
    expect(simulator.state.records("Contact").map((record) => [record.LastName, record.Title])).toEqual([
      ["Existing", "CEO, founder"],
      ['New "quoted"', null],
    ]);
    expect((await callApi(simulator, "GET", `/jobs/ingest/${jobId}/failedResults/`)).text).toBe(
      '"sf__Id","sf__Error","Linq_Id__c","LastName","Title"\n',
    );
    expect((await callApi(simulator, "DELETE", `/jobs/ingest/${jobId}`)).status).toBe(204);
    expect((await callApi(simulator, "GET", `/jobs/ingest/${jobId}`)).status).toBe(404);
  });

  it("fails the whole job for data Salesforce rejects: wrong line endings, unknown columns", async () => {
    const run = async (csv: string): Promise<Record<string, unknown>> => {
      const job = await callApi(simulator, "POST", "/jobs/ingest", {
        body: { object: "Lead", operation: "insert" },
      });
      await callApi(simulator, "PUT", `/jobs/ingest/${job.body.id}/batches`, {
        body: csv,
        headers: { "content-type": "text/csv" },
      });
      await callApi(simulator, "PATCH", `/jobs/ingest/${job.body.id}`, { body: { state: "UploadComplete" } });
      return waitForState(simulator, job.body.id, ["JobComplete", "Failed"]);
    };
    expect(await run("LastName,Company\r\nA,B\r\n")).toMatchObject({
      state: "Failed",
      errorMessage: "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF",
    });
    expect(await run("LastName,Nope__c\nA,B\n")).toMatchObject({
      state: "Failed",
      errorMessage: "InvalidBatch : Field name not found : Nope__c",
    });
    expect(simulator.state.records("Lead")).toHaveLength(0);
  });

  it("validates job creation and state changes", async () => {
    expect(
      (
        await callApi(simulator, "POST", "/jobs/ingest", {
          body: { object: "Widget__c", operation: "insert" },
        })
      ).body[0].errorCode,
    ).toBe("INVALIDENTITY");
    expect(
      (await callApi(simulator, "POST", "/jobs/ingest", { body: { object: "Contact", operation: "merge" } }))
        .body[0].errorCode,
    ).toBe("INVALIDJOB");
    expect(
      (
        await callApi(simulator, "POST", "/jobs/ingest", {
          body: { object: "Contact", operation: "upsert", externalIdFieldName: "LastName" },
        })
      ).body[0].errorCode,
    ).toBe("INVALIDJOB");
    expect(
      (
        await callApi(simulator, "POST", "/jobs/ingest", {
          body: { object: "Contact", operation: "insert", extra: 1 },
        })
      ).body[0].errorCode,
    ).toBe("JSON_PARSER_ERROR");
    const job = await callApi(simulator, "POST", "/jobs/ingest", {
      body: { object: "Contact", operation: "insert" },
    });
    await callApi(simulator, "PUT", `/jobs/ingest/${job.body.id}/batches`, {
      body: "LastName\nA\nB\n",
      headers: { "content-type": "text/csv" },
    });
    const aborted = await callApi(simulator, "PATCH", `/jobs/ingest/${job.body.id}`, {
      body: { state: "Aborted" },
    });
    expect(aborted.body.state).toBe("Aborted");
    expect((await callApi(simulator, "GET", `/jobs/ingest/${job.body.id}/unprocessedrecords/`)).text).toBe(
      '"LastName"\n"A"\n"B"\n',
    );
    expect(
      (
        await callApi(simulator, "PATCH", `/jobs/ingest/${job.body.id}`, {
          body: { state: "UploadComplete" },
        })
      ).body[0].errorCode,
    ).toBe("INVALIDJOBSTATE");
    const list = await callApi(simulator, "GET", "/jobs/ingest");
    expect(list.body).toMatchObject({
      done: true,
      nextRecordsUrl: null,
      records: [expect.objectContaining({ id: job.body.id, state: "Aborted" })],
    });
    expect(simulator.state.records("Contact")).toHaveLength(0);
  });
});
