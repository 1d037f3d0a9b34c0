/**
 * Bulk API 2.0 ingest jobs (`/services/data/vXX.X/jobs/ingest`): create a job,
 * upload its CSV once (`PUT …/batches`), close it (`PATCH {state:"UploadComplete"}`),
 * poll it (`UploadComplete` → `InProgress` → `JobComplete`, or `Failed` for data
 * Salesforce rejects as a whole), then read `successfulResults/`, `failedResults/`
 * and `unprocessedrecords/`. Each row is saved with the same validation as the
 * REST API; a failed row does not stop the others.
 */
import { type ApiRequest, type ApiResponse, type ApiServices, jsonObject } from "./simulator-api.ts";
import { type ColumnDelimiter, DELIMITERS, parseCsv, writeCsv } from "./simulator-csv.ts";
import { apiError, jsonParserError, notFound, SalesforceRecordError } from "./simulator-errors.ts";
import type { BulkJobState, SalesforceBulkJob } from "./simulator-types.ts";

const OPERATIONS = new Set(["insert", "update", "upsert", "delete"]);
const CREATE_KEYS = new Set([
  "object",
  "operation",
  "externalIdFieldName",
  "contentType",
  "lineEnding",
  "columnDelimiter",
  "assignmentRuleId",
]);

interface Job {
  info: SalesforceBulkJob;
  userId: string;
  data: string | null;
  successful: string[][];
  failed: string[][];
  unprocessed: string[][];
  header: string[];
  timers: NodeJS.Timeout[];
}

export class BulkIngest {
  private readonly services: ApiServices;
  private readonly processingDelayMs: number;
  private readonly jobs = new Map<string, Job>();

  constructor(services: ApiServices, options: { processingDelayMs: number }) {
    this.services = services;
    this.processingDelayMs = options.processingDelayMs;
  }

  list(): SalesforceBulkJob[] {
    return [...this.jobs.values()].map((job) => structuredClone(job.info));
  }

  reset(): void {
    for (const job of this.jobs.values()) for (const timer of job.timers) clearTimeout(timer);
    this.jobs.clear();
  }

  handle(request: ApiRequest, rest: string[]): ApiResponse {
    const parts = rest.filter((segment) => segment !== "");
    const [jobId, resource, ...extra] = parts;
    if (extra.length > 0) throw notFound();
    if (jobId === undefined) {
      if (request.method === "POST") return this.create(request);
      if (request.method === "GET") {
        return {
          status: 200,
          json: { done: true, records: this.list().map((info) => summary(info)), nextRecordsUrl: null },
        };
      }
      throw methodNotAllowed(request.method, ["GET", "POST"]);
    }
    const job = this.jobs.get(jobId);
    if (job === undefined) throw notFound();
    if (resource === undefined) {
      if (request.method === "GET") return { status: 200, json: structuredClone(job.info) };
      if (request.method === "PATCH") return this.changeState(request, job);
      if (request.method === "DELETE") {
        if (job.info.state === "Open" || job.info.state === "InProgress") {
          throw apiError(400, "INVALIDJOBSTATE", `Job with state ${job.info.state} can not be deleted`);
        }
        for (const timer of job.timers) clearTimeout(timer);
        this.jobs.delete(jobId);
        return { status: 204 };
      }
      throw methodNotAllowed(request.method, ["GET", "PATCH", "DELETE"]);
    }
    const delimiter = DELIMITERS[job.info.columnDelimiter];
    switch (resource) {
      case "batches":
        if (request.method !== "PUT") throw methodNotAllowed(request.method, ["PUT"]);
        return this.upload(request, job);
      case "successfulResults":
        return this.results(
          request,
          [["sf__Id", "sf__Created", ...job.header], ...job.successful],
          delimiter,
          job,
        );
      case "failedResults":
        return this.results(request, [["sf__Id", "sf__Error", ...job.header], ...job.failed], delimiter, job);
      case "unprocessedrecords":
        return this.results(request, [job.header, ...job.unprocessed], delimiter, job);
      default:
        throw notFound();
    }
  }

  private create(request: ApiRequest): ApiResponse {
    const body = jsonObject(request);
    for (const key of Object.keys(body)) {
      if (!CREATE_KEYS.has(key))
        throw jsonParserError(`Unrecognized field "${key}" (class JobInfo), not marked as ignorable`);
    }
    const objectName = body.object;
    const operation = body.operation;
    if (typeof objectName !== "string" || objectName === "")
      throw apiError(400, "INVALIDJOB", "Object is required");
    if (typeof operation !== "string" || !OPERATIONS.has(operation)) {
      throw apiError(
        400,
        "INVALIDJOB",
        `Invalid operation: ${String(operation)}. Supported: insert, update, upsert, delete`,
      );
    }
    const object = this.services.schema.object(objectName);
    if (object === undefined)
      throw apiError(400, "INVALIDENTITY", `Entity '${objectName}' is not supported by the Bulk API.`);
    if (!object.createable)
      throw apiError(400, "INVALIDENTITY", `Entity '${object.name}' is not supported by the Bulk API.`);
    let externalIdFieldName: string | undefined;
    if (operation === "upsert") {
      const requested = body.externalIdFieldName;
      const keyField = typeof requested === "string" ? object.field(requested) : undefined;
      if (typeof requested !== "string" || requested === "") {
        throw apiError(400, "INVALIDJOB", "External ID field is required for upsert");
      }
      if (keyField === undefined || !(keyField.externalId || keyField.type === "id")) {
        throw apiError(
          400,
          "INVALIDJOB",
          `Field name provided, ${requested} is not an External ID or indexed field for ${object.name}`,
        );
      }
      externalIdFieldName = keyField.name;
    }
    const contentType = body.contentType ?? "CSV";
    if (contentType !== "CSV")
      throw apiError(
        400,
        "INVALIDJOB",
        `Unsupported contentType: ${String(contentType)}. Only CSV is supported`,
      );
    const lineEnding = body.lineEnding ?? "LF";
    if (lineEnding !== "LF" && lineEnding !== "CRLF")
      throw apiError(400, "INVALIDJOB", `Invalid lineEnding: ${String(lineEnding)}`);
    const columnDelimiter = body.columnDelimiter ?? "COMMA";
    if (typeof columnDelimiter !== "string" || !(columnDelimiter in DELIMITERS)) {
      throw apiError(400, "INVALIDJOB", `Invalid columnDelimiter: ${String(columnDelimiter)}`);
    }
    const stamp = this.services.store.timestamp();
    const info: SalesforceBulkJob = {
      id: this.services.ids.next("750"),
      operation: operation as SalesforceBulkJob["operation"],
      object: object.name,
      createdById: request.user.id,
      createdDate: stamp,
      systemModstamp: stamp,
      state: "Open",
      ...(externalIdFieldName === undefined ? {} : { externalIdFieldName }),
      concurrencyMode: "Parallel",
      contentType: "CSV",
      apiVersion: Number(request.version),
      jobType: "V2Ingest",
      lineEnding,
      columnDelimiter: columnDelimiter as ColumnDelimiter,
      numberRecordsProcessed: 0,
      numberRecordsFailed: 0,
      retries: 0,
      totalProcessingTime: 0,
      apiActiveProcessingTime: 0,
      apexProcessingTime: 0,
    };
    this.jobs.set(info.id, {
      info,
      userId: request.user.id,
      data: null,
      successful: [],
      failed: [],
      unprocessed: [],
      header: [],
      timers: [],
    });
    return {
      status: 200,
      json: {
        ...summary(info),
        contentUrl: `services/data/v${request.version}/jobs/ingest/${info.id}/batches`,
      },
    };
  }

  private upload(request: ApiRequest, job: Job): ApiResponse {
    if (job.info.state !== "Open")
      throw apiError(400, "INVALIDJOBSTATE", `Job state ${job.info.state} does not allow uploading data`);
    if (job.data !== null) throw apiError(400, "INVALIDJOBSTATE", "Data can only be uploaded to a job once");
    if (!/text\/csv/i.test(request.contentType)) {
      throw apiError(
        400,
        "INVALIDJOB",
        `Unsupported content type ${request.contentType || "(none)"}: use text/csv`,
      );
    }
    job.data = request.rawBody.toString("utf8");
    return { status: 201 };
  }

  private changeState(request: ApiRequest, job: Job): ApiResponse {
    const body = jsonObject(request);
    const state = body.state;
    if (state === "UploadComplete") {
      if (job.info.state !== "Open")
        throw apiError(
          400,
          "INVALIDJOBSTATE",
          `Job state ${job.info.state} can not be changed to UploadComplete`,
        );
      this.setState(job, "UploadComplete");
      const half = Math.floor(this.processingDelayMs / 2);
      job.timers.push(
        setTimeout(() => {
          if (job.info.state === "UploadComplete") this.setState(job, "InProgress");
        }, half),
        setTimeout(() => {
          if (job.info.state === "UploadComplete" || job.info.state === "InProgress") this.process(job);
        }, this.processingDelayMs),
      );
    } else if (state === "Aborted") {
      if (!["Open", "UploadComplete", "InProgress"].includes(job.info.state)) {
        throw apiError(400, "INVALIDJOBSTATE", `Job state ${job.info.state} can not be changed to Aborted`);
      }
      for (const timer of job.timers) clearTimeout(timer);
      this.setState(job, "Aborted");
      if (job.data !== null) {
        const parsed = parseCsv(job.data, DELIMITERS[job.info.columnDelimiter]);
        job.header = parsed.rows[0] ?? [];
        job.unprocessed = parsed.rows.slice(1);
      }
    } else {
      throw apiError(
        400,
        "INVALIDJOBSTATE",
        `Invalid state: ${String(state)}. Use UploadComplete or Aborted`,
      );
    }
    return { status: 200, json: summary(job.info) };
  }

  private setState(job: Job, state: BulkJobState, errorMessage?: string): void {
    job.info.state = state;
    job.info.systemModstamp = this.services.store.timestamp();
    if (errorMessage !== undefined) job.info.errorMessage = errorMessage;
  }

  private process(job: Job): void {
    const started = Date.now();
    const data = job.data ?? "";
    const parsed = parseCsv(data, DELIMITERS[job.info.columnDelimiter]);
    const wrongEnding =
      job.info.lineEnding === "LF" ? parsed.lineEndings.has("CRLF") : parsed.lineEndings.has("LF");
    if (wrongEnding) {
      this.setState(
        job,
        "Failed",
        `ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is ${job.info.lineEnding}`,
      );
      return;
    }
    const [header, ...rows] = parsed.rows;
    if (header === undefined || rows.length === 0) {
      this.setState(job, "Failed", "InvalidBatch : Empty batch");
      return;
    }
    const object = this.services.schema.object(job.info.object);
    if (object === undefined) return;
    job.header = header;
    const columns: string[] = [];
    for (const column of header) {
      const definition = object.field(column.trim());
      if (definition === undefined) {
        this.setState(job, "Failed", `InvalidBatch : Field name not found : ${column}`);
        return;
      }
      columns.push(definition.name);
    }
    const required =
      job.info.operation === "update" || job.info.operation === "delete"
        ? "Id"
        : job.info.operation === "upsert"
          ? job.info.externalIdFieldName
          : undefined;
    if (required !== undefined && !columns.includes(required)) {
      this.setState(job, "Failed", `InvalidBatch : Field name not found : ${required}`);
      return;
    }
    const context = { userId: job.userId, source: "csv" as const };
    const store = this.services.store;
    for (const row of rows) {
      const fields: Record<string, unknown> = {};
      let id = "";
      try {
        if (row.length !== columns.length) {
          throw new SalesforceRecordError(
            "INVALID_FIELD",
            `Wrong number of columns: expected ${columns.length}, found ${row.length}`,
          );
        }
        for (const [index, name] of columns.entries()) {
          const cell = row[index] ?? "";
          if (cell === "") continue;
          fields[name] = cell;
        }
        let created = false;
        switch (job.info.operation) {
          case "insert":
            id = store.create(object.name, fields, context).id;
            created = true;
            break;
          case "update": {
            const { Id: key, ...rest } = fields;
            id = typeof key === "string" ? key : "";
            if (id === "")
              throw new SalesforceRecordError("MISSING_ARGUMENT", "Id not specified in an update call", [
                "Id",
              ]);
            id = store.update(object.name, id, rest, context).id;
            break;
          }
          case "delete": {
            id = typeof fields.Id === "string" ? fields.Id : "";
            if (id === "")
              throw new SalesforceRecordError("MISSING_ARGUMENT", "Id not specified in a delete call", [
                "Id",
              ]);
            id = store.delete(object.name, id, context).id;
            break;
          }
          default: {
            const keyName = job.info.externalIdFieldName ?? "Id";
            const key = fields[keyName];
            if (typeof key !== "string")
              throw new SalesforceRecordError("MISSING_ARGUMENT", `${keyName} not specified`, [keyName]);
            const outcome = store.upsert(object.name, keyName, key, fields, context);
            id = outcome.record.id;
            created = outcome.created;
          }
        }
        job.successful.push([id, String(created), ...row]);
      } catch (error) {
        if (!(error instanceof SalesforceRecordError)) throw error;
        job.failed.push([id, `${error.errorCode}:${error.message}:${error.fields.join(",")} --`, ...row]);
      }
    }
    job.info.numberRecordsProcessed = rows.length;
    job.info.numberRecordsFailed = job.failed.length;
    const elapsed = Math.max(1, Date.now() - started);
    job.info.totalProcessingTime = elapsed;
    job.info.apiActiveProcessingTime = elapsed;
    this.setState(job, "JobComplete");
  }

  private results(request: ApiRequest, rows: string[][], delimiter: string, job: Job): ApiResponse {
    if (request.method !== "GET") throw methodNotAllowed(request.method, ["GET"]);
    return {
      status: 200,
      text: { body: writeCsv(rows, delimiter, job.info.lineEnding), contentType: "text/csv" },
    };
  }
}

/** The job fields create / close / abort answer (without the counters of `GET`). */
function summary(info: SalesforceBulkJob): Record<string, unknown> {
  return {
    id: info.id,
    operation: info.operation,
    object: info.object,
    createdById: info.createdById,
    createdDate: info.createdDate,
    systemModstamp: info.systemModstamp,
    state: info.state,
    ...(info.externalIdFieldName === undefined ? {} : { externalIdFieldName: info.externalIdFieldName }),
    concurrencyMode: info.concurrencyMode,
    contentType: info.contentType,
    apiVersion: info.apiVersion,
    lineEnding: info.lineEnding,
    columnDelimiter: info.columnDelimiter,
  };
}

function methodNotAllowed(method: string, allowed: string[]): Error {
  return apiError(
    405,
    "METHOD_NOT_ALLOWED",
    `HTTP Method '${method}' not allowed. Allowed are ${allowed.join(",")}`,
  );
}
