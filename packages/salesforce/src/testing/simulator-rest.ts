/**
 * The REST resources under `/services/data/vXX.X/`: sObject CRUD, describe,
 * upsert by external id, Get Updated / Get Deleted, query / queryAll with
 * queryMore locators, search, sObject Collections and limits. Composite and
 * Bulk API 2.0 live in their own modules and are routed from here.
 */
import {
  type ApiRequest,
  type ApiResponse,
  type ApiServices,
  allowsDuplicates,
  jsonBody,
  jsonObject,
} from "./simulator-api.ts";
import type { BulkIngest } from "./simulator-bulk.ts";
import { runComposite } from "./simulator-composite.ts";
import {
  apiError,
  jsonParserError,
  notFound,
  SalesforceRecordError,
  type SaveResultError,
} from "./simulator-errors.ts";
import { describeObject, objectSummary } from "./simulator-schema.ts";
import { recordUrl, type StoredRecord, type WriteContext } from "./simulator-store.ts";
import { formatDateTime, parseDateTime } from "./simulator-values.ts";
import {
  missingQuery,
  type QueryContext,
  renderQueryRecord,
  resolveSelectList,
  runSoql,
} from "./soql-engine.ts";
import { runSosl } from "./sosl.ts";

const COLLECTION_LIMIT = 200;
const RETRIEVE_LIMIT = 2000;
const MINUTE = 60_000;
const DAY = 86_400_000;

interface Cursor {
  records: Record<string, unknown>[];
  totalSize: number;
  resource: "query" | "queryAll";
  userId: string;
}

/** Open queryMore cursors (oldest dropped past a cap, as Salesforce limits open cursors). */
export class QueryCursors {
  private readonly cursors = new Map<string, Cursor>();
  private counter = 0;

  open(cursor: Cursor): string {
    this.counter += 1;
    const locator = `01g5g00000${this.counter.toString(36).toUpperCase().padStart(5, "0")}`;
    this.cursors.set(locator, cursor);
    if (this.cursors.size > 200) {
      const oldest = this.cursors.keys().next().value;
      if (oldest !== undefined) this.cursors.delete(oldest);
    }
    return locator;
  }

  get(locator: string): Cursor | undefined {
    return this.cursors.get(locator);
  }

  clear(): void {
    this.cursors.clear();
  }
}

export class RestApi {
  private readonly services: ApiServices;
  private readonly cursors: QueryCursors;
  private readonly bulk: BulkIngest;

  constructor(services: ApiServices, cursors: QueryCursors, bulk: BulkIngest) {
    this.services = services;
    this.cursors = cursors;
    this.bulk = bulk;
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const [resource, ...rest] = request.segments;
    switch (resource) {
      case undefined:
        return this.allow(request, ["GET"], () => this.resources(request));
      case "limits":
        return this.exact(request, rest, ["GET"], () => this.limits());
      case "sobjects":
        return this.sobjects(request, rest);
      case "query":
      case "queryAll":
        return this.query(request, resource, rest);
      case "search":
        return this.exact(request, rest, ["GET"], () => this.search(request));
      case "composite":
        if (rest.length === 0)
          return this.allow(request, ["POST"], () => runComposite(request, this.services));
        if (rest[0] === "sobjects") return this.collections(request, rest.slice(1));
        throw notFound();
      case "jobs":
        if (rest[0] === "ingest") return this.bulk.handle(request, rest.slice(1));
        throw notFound();
      default:
        throw notFound();
    }
  }

  // ------------------------------------------------------------------ helpers

  private allow(
    request: ApiRequest,
    methods: string[],
    run: () => ApiResponse | Promise<ApiResponse>,
  ): ApiResponse | Promise<ApiResponse> {
    if (!methods.includes(request.method)) {
      throw apiError(
        405,
        "METHOD_NOT_ALLOWED",
        `HTTP Method '${request.method}' not allowed. Allowed are ${methods.join(",")}`,
      );
    }
    return run();
  }

  private exact(
    request: ApiRequest,
    rest: string[],
    methods: string[],
    run: () => ApiResponse | Promise<ApiResponse>,
  ): ApiResponse | Promise<ApiResponse> {
    if (rest.filter((segment) => segment !== "").length > 0) throw notFound();
    return this.allow(request, methods, run);
  }

  private context(request: ApiRequest): WriteContext {
    return { userId: request.user.id, source: "json", allowDuplicates: allowsDuplicates(request) };
  }

  private queryContext(request: ApiRequest): QueryContext {
    return {
      schema: this.services.schema,
      store: this.services.store,
      now: this.services.now,
      apiVersion: request.version,
    };
  }

  private resources(request: ApiRequest): ApiResponse {
    const base = `/services/data/v${request.version}`;
    const names = ["composite", "jobs", "limits", "query", "queryAll", "search", "sobjects"];
    return { status: 200, json: Object.fromEntries(names.map((name) => [name, `${base}/${name}`])) };
  }

  private limits(): ApiResponse {
    const used = this.services.apiUsage();
    const limit = this.services.dailyApiLimit;
    return {
      status: 200,
      json: {
        ConcurrentAsyncGetReportInstances: { Max: 200, Remaining: 200 },
        DailyApiRequests: { Max: limit, Remaining: Math.max(0, limit - used) },
        DailyAsyncApexExecutions: { Max: 250_000, Remaining: 250_000 },
        DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
        DailyBulkV2QueryFileStorageMB: { Max: 976_562, Remaining: 976_562 },
        DailyBulkV2QueryJobs: { Max: 10_000, Remaining: 10_000 },
        DataStorageMB: { Max: 5, Remaining: 5 },
        FileStorageMB: { Max: 20, Remaining: 20 },
        SingleEmail: { Max: 15, Remaining: 15 },
      },
    };
  }

  // ------------------------------------------------------------------ sobjects

  private sobjects(request: ApiRequest, rest: string[]): ApiResponse | Promise<ApiResponse> {
    const parts = rest.filter((segment, index) => segment !== "" || index < rest.length - 1);
    const [typeName, second, third, ...extra] = parts;
    if (typeName === undefined) {
      return this.allow(request, ["GET"], () => ({
        status: 200,
        json: {
          encoding: "UTF-8",
          maxBatchSize: 200,
          sobjects: this.services.schema.all().map((object) => objectSummary(object, request.version)),
        },
      }));
    }
    const object = this.services.schema.object(typeName);
    if (object === undefined || extra.length > 0) throw notFound();
    const store = this.services.store;
    if (second === undefined) {
      return this.allow(request, ["GET", "POST"], () => {
        if (request.method === "GET") {
          const recent = store
            .all(object.name)
            .slice(-10)
            .reverse()
            .map((record) => ({
              attributes: { type: object.name, url: recordUrl(request.version, object.name, record.id) },
              Id: record.id,
              ...(object.field("Name") === undefined ? {} : { Name: record.values.Name ?? null }),
            }));
          return {
            status: 200,
            json: { objectDescribe: objectSummary(object, request.version), recentItems: recent },
          };
        }
        const record = store.create(object.name, jsonBody(request), this.context(request));
        return {
          status: 201,
          json: { id: record.id, success: true, errors: [] },
          headers: { location: recordUrl(request.version, object.name, record.id) },
        };
      });
    }
    if (third === undefined) {
      switch (second) {
        case "describe":
          return this.allow(request, ["GET"], () => ({
            status: 200,
            json: describeObject(object, request.version, this.services.schema),
          }));
        case "updated":
          return this.allow(request, ["GET"], () => this.updated(request, object.name));
        case "deleted":
          return this.allow(request, ["GET"], () => this.deleted(request, object.name));
        default:
          return this.allow(request, ["GET", "PATCH", "DELETE"], () => {
            if (request.method === "GET")
              return {
                status: 200,
                json: this.retrieve(request, store.requireLive(object, second)),
              };
            if (request.method === "PATCH") {
              store.update(object.name, second, jsonBody(request), this.context(request));
              return { status: 204 };
            }
            store.delete(object.name, second, this.context(request));
            return { status: 204 };
          });
      }
    }
    // /sobjects/{type}/{fieldName}/{fieldValue}: by external id.
    return this.allow(request, ["GET", "PATCH", "DELETE"], () => {
      if (request.method === "PATCH") {
        const { record, created } = store.upsert(
          object.name,
          second,
          third,
          jsonBody(request),
          this.context(request),
        );
        return {
          status: created ? 201 : 200,
          json: { id: record.id, success: true, errors: [], created },
          ...(created ? { headers: { location: recordUrl(request.version, object.name, record.id) } } : {}),
        };
      }
      const keyField = object.field(second);
      if (keyField === undefined || !(keyField.externalId || keyField.type === "id")) {
        throw apiError(
          404,
          "NOT_FOUND",
          `Provided external ID field does not exist or is not accessible: ${second}`,
        );
      }
      const matches =
        keyField.type === "id"
          ? [store.requireLive(object, third)]
          : store.findByField(object, keyField, third);
      if (matches.length === 0) throw notFound();
      if (matches.length > 1) {
        return {
          status: 300,
          json: matches.map((match) => recordUrl(request.version, object.name, match.id)),
        };
      }
      const [match] = matches as [StoredRecord];
      if (request.method === "DELETE") {
        store.delete(object.name, match.id, this.context(request));
        return { status: 204 };
      }
      return { status: 200, json: this.retrieve(request, match) };
    });
  }

  private retrieve(request: ApiRequest, record: StoredRecord): Record<string, unknown> {
    const fieldsParameter = request.query.get("fields");
    if (fieldsParameter === null || fieldsParameter.trim() === "")
      return this.services.store.render(record, request.version);
    const object = record.object;
    const names = fieldsParameter
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "");
    const statement = names.join(", ");
    let offset = 0;
    const paths = names.map((name) => {
      const path = { parts: name.split("."), offset: statement.indexOf(name, offset) };
      offset = path.offset + name.length;
      return path;
    });
    const resolved = resolveSelectList(statement, this.services.schema, object, paths);
    const rendered = renderQueryRecord(record, resolved, this.queryContext(request));
    return {
      attributes: rendered.attributes,
      Id: record.id,
      ...Object.fromEntries(Object.entries(rendered).filter(([key]) => key !== "attributes")),
    };
  }

  // ------------------------------------------------------------------ replication

  private replicationWindow(request: ApiRequest, maxDays: number): { start: number; end: number } {
    const startText = request.query.get("start");
    const endText = request.query.get("end");
    if (startText === null || endText === null || startText === "" || endText === "") {
      throw apiError(400, "MISSING_ARGUMENT", "start and end are required: ?start=<dateTime>&end=<dateTime>");
    }
    const start = parseDateTime(startText);
    const end = parseDateTime(endText);
    if (start === undefined)
      throw apiError(400, "INVALID_REPLICATION_DATE", `Invalid start date: ${startText}`);
    if (end === undefined) throw apiError(400, "INVALID_REPLICATION_DATE", `Invalid end date: ${endText}`);
    const floor = (value: number): number => Math.floor(value / MINUTE) * MINUTE;
    const now = this.services.now().getTime();
    const windowStart = floor(start);
    const windowEnd = Math.min(floor(end), floor(now));
    if (floor(start) >= floor(end)) {
      throw apiError(
        400,
        "INVALID_REPLICATION_DATE",
        "startDate must chronologically precede endDate by more than one minute",
      );
    }
    if (windowStart < floor(now) - maxDays * DAY) {
      throw apiError(400, "INVALID_REPLICATION_DATE", `startDate cannot be more than ${maxDays} days ago`);
    }
    return { start: windowStart, end: windowEnd };
  }

  private updated(request: ApiRequest, objectName: string): ApiResponse {
    const { start, end } = this.replicationWindow(request, 30);
    const ids = this.services.store
      .all(objectName)
      .filter((record) => {
        const stamp = parseDateTime(String(record.values.SystemModstamp));
        return stamp !== undefined && stamp >= start && stamp < end;
      })
      .map((record) => record.id);
    return { status: 200, json: { ids, latestDateCovered: formatDateTime(Math.max(start, end)) } };
  }

  private deleted(request: ApiRequest, objectName: string): ApiResponse {
    const { start, end } = this.replicationWindow(request, 15);
    const store = this.services.store;
    const deletedRecords = store
      .deletedLog(objectName)
      .filter((entry) => entry.deletedAt >= start && entry.deletedAt < end)
      .map((entry) => store.renderDeleted(entry));
    return {
      status: 200,
      json: {
        deletedRecords,
        earliestDateAvailable: formatDateTime(Math.floor(this.services.createdAt() / MINUTE) * MINUTE),
        latestDateCovered: formatDateTime(Math.max(start, end)),
      },
    };
  }

  // ------------------------------------------------------------------ query and search

  private query(
    request: ApiRequest,
    resource: "query" | "queryAll",
    rest: string[],
  ): ApiResponse | Promise<ApiResponse> {
    const locator = rest.filter((segment) => segment !== "")[0];
    return this.allow(request, ["GET"], () => {
      if (locator !== undefined) {
        if (rest.filter((segment) => segment !== "").length > 1) throw notFound();
        const [id, offsetText] = locator.split("-");
        const cursor = id === undefined ? undefined : this.cursors.get(id);
        const offset = Number(offsetText);
        if (
          cursor === undefined ||
          cursor.userId !== request.user.id ||
          !Number.isInteger(offset) ||
          offset <= 0 ||
          offset >= cursor.records.length
        ) {
          throw apiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
        }
        return this.page(request, resource, cursor, id ?? "", offset);
      }
      const statement = request.query.get("q");
      if (statement === null || statement.trim() === "") throw missingQuery();
      const outcome = runSoql(statement, this.queryContext(request), {
        includeDeleted: resource === "queryAll",
      });
      if (outcome.count)
        return { status: 200, json: { totalSize: outcome.totalSize, done: true, records: [] } };
      const cursor: Cursor = {
        records: outcome.records,
        totalSize: outcome.totalSize,
        resource,
        userId: request.user.id,
      };
      const batchSize = this.batchSize(request);
      if (outcome.records.length <= batchSize) {
        return { status: 200, json: { totalSize: outcome.totalSize, done: true, records: outcome.records } };
      }
      return this.page(request, resource, cursor, this.cursors.open(cursor), 0);
    });
  }

  private batchSize(request: ApiRequest): number {
    const header = /batchSize\s*=\s*(\d+)/i.exec(request.headers["sforce-query-options"] ?? "")?.[1];
    const configured = this.services.queryBatchSize;
    if (header === undefined) return configured;
    // Salesforce honours 200..2000 (it may use a larger batch); a smaller configured size wins in tests.
    return Math.min(2000, Math.max(Math.min(200, configured), Number(header)));
  }

  private page(
    request: ApiRequest,
    resource: string,
    cursor: Cursor,
    id: string,
    offset: number,
  ): ApiResponse {
    const batchSize = this.batchSize(request);
    const records = cursor.records.slice(offset, offset + batchSize);
    const nextOffset = offset + records.length;
    const done = nextOffset >= cursor.records.length;
    return {
      status: 200,
      json: {
        totalSize: cursor.totalSize,
        done,
        ...(done
          ? {}
          : { nextRecordsUrl: `/services/data/v${request.version}/${resource}/${id}-${nextOffset}` }),
        records,
      },
    };
  }

  private search(request: ApiRequest): ApiResponse {
    const statement = request.query.get("q");
    if (statement === null || statement.trim() === "") {
      throw apiError(
        400,
        "MALFORMED_SEARCH",
        "No search term found. The search term must be at least 2 characters long.",
      );
    }
    return { status: 200, json: runSosl(statement, this.queryContext(request)) };
  }

  // ------------------------------------------------------------------ sObject Collections

  private collections(request: ApiRequest, rest: string[]): ApiResponse | Promise<ApiResponse> {
    const parts = rest.filter((segment) => segment !== "");
    const [typeName, externalField, ...extra] = parts;
    if (extra.length > 0) throw notFound();
    if (typeName === undefined) {
      return this.allow(request, ["POST", "PATCH", "DELETE"], () => {
        if (request.method === "DELETE") return this.collectionDelete(request);
        return this.collectionSave(request, request.method === "POST" ? "create" : "update");
      });
    }
    const object = this.services.schema.object(typeName);
    if (object === undefined)
      throw apiError(400, "INVALID_TYPE", `sObject type '${typeName}' is not supported.`);
    if (externalField !== undefined)
      return this.allow(request, ["PATCH"], () => this.collectionUpsert(request, object.name, externalField));
    return this.allow(request, ["GET", "POST"], () => {
      let ids: unknown;
      let fields: unknown;
      if (request.method === "GET") {
        ids = request.query
          .get("ids")
          ?.split(",")
          .filter((id) => id !== "");
        fields = request.query
          .get("fields")
          ?.split(",")
          .filter((field) => field !== "");
      } else {
        const body = jsonObject(request);
        ids = body.ids;
        fields = body.fields;
      }
      if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string")) {
        throw jsonParserError("ids: a non-empty list of record ids is required");
      }
      if (
        !Array.isArray(fields) ||
        fields.length === 0 ||
        !fields.every((field) => typeof field === "string")
      ) {
        throw jsonParserError("fields: a non-empty list of field names is required");
      }
      if (ids.length > RETRIEVE_LIMIT) {
        throw apiError(
          400,
          "EXCEEDED_ID_LIMIT",
          `record limit reached. cannot submit more than ${RETRIEVE_LIMIT} records into this call`,
        );
      }
      const statement = (fields as string[]).join(", ");
      let offset = 0;
      const paths = (fields as string[]).map((name) => {
        const path = { parts: name.split("."), offset: statement.indexOf(name, offset) };
        offset = path.offset + name.length;
        return path;
      });
      const resolved = resolveSelectList(statement, this.services.schema, object, paths);
      const result = (ids as string[]).map((id) => {
        const record = this.services.store.get(id);
        if (record === undefined) {
          if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id))
            throw apiError(400, "MALFORMED_ID", `malformed id ${id}`);
          return null;
        }
        if (record.object !== object || record.values.IsDeleted === true) return null;
        return renderQueryRecord(record, resolved, this.queryContext(request));
      });
      return { status: 200, json: result };
    });
  }

  private collectionRecords(request: ApiRequest): { allOrNone: boolean; records: Record<string, unknown>[] } {
    const body = jsonObject(request);
    for (const key of Object.keys(body)) {
      if (key !== "allOrNone" && key !== "records") {
        throw jsonParserError(
          `Unrecognized field "${key}" (class SObjectCollectionRequest), not marked as ignorable`,
        );
      }
    }
    if (body.allOrNone !== undefined && typeof body.allOrNone !== "boolean") {
      throw jsonParserError(
        `Cannot deserialize value of type boolean from ${JSON.stringify(body.allOrNone)}`,
      );
    }
    const records = body.records;
    if (!Array.isArray(records) || records.length === 0)
      throw jsonParserError("records: a non-empty list of records is required");
    if (records.length > COLLECTION_LIMIT) {
      throw apiError(
        400,
        "EXCEEDED_ID_LIMIT",
        `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`,
      );
    }
    for (const record of records) {
      const type = (record as { attributes?: { type?: unknown } } | null)?.attributes?.type;
      if (
        record === null ||
        typeof record !== "object" ||
        Array.isArray(record) ||
        typeof type !== "string"
      ) {
        throw jsonParserError(
          'Each record needs an attributes map with its type: { "attributes": { "type": "Contact" }, … }',
        );
      }
    }
    return { allOrNone: body.allOrNone === true, records: records as Record<string, unknown>[] };
  }

  private collectionSave(request: ApiRequest, mode: "create" | "update"): ApiResponse {
    const { allOrNone, records } = this.collectionRecords(request);
    const store = this.services.store;
    const context = this.context(request);
    return this.saveAll(allOrNone, records, (record) => {
      const type = String((record.attributes as { type: string }).type);
      if (mode === "create") return { id: store.create(type, record, context).id };
      const { id, Id, ...fields } = record;
      const key = typeof Id === "string" ? Id : typeof id === "string" ? id : undefined;
      if (key === undefined)
        throw new SalesforceRecordError("MISSING_ARGUMENT", "Id not specified in an update call");
      return { id: store.update(type, key, fields, context).id };
    });
  }

  private collectionUpsert(request: ApiRequest, objectName: string, externalField: string): ApiResponse {
    const object = this.services.schema.object(objectName);
    const keyField = object?.field(externalField);
    if (object === undefined || keyField === undefined || !(keyField.externalId || keyField.type === "id")) {
      throw apiError(
        400,
        "INVALID_FIELD",
        `Field name provided, ${externalField} is not an External ID or indexed field for ${objectName}`,
      );
    }
    const { allOrNone, records } = this.collectionRecords(request);
    const store = this.services.store;
    const context = this.context(request);
    return this.saveAll(allOrNone, records, (record) => {
      const type = String((record.attributes as { type: string }).type);
      if (type.toLowerCase() !== object.name.toLowerCase()) {
        throw new SalesforceRecordError("INVALID_TYPE", `Record type ${type} does not match ${object.name}`);
      }
      const entry = Object.entries(record).find(
        ([name]) => name.toLowerCase() === keyField.name.toLowerCase(),
      );
      const value = entry?.[1];
      if (typeof value !== "string" || value === "") {
        throw new SalesforceRecordError("MISSING_ARGUMENT", `${keyField.name} not specified`, [
          keyField.name,
        ]);
      }
      const { record: saved, created } = store.upsert(object.name, keyField.name, value, record, context);
      return { id: saved.id, created };
    });
  }

  private collectionDelete(request: ApiRequest): ApiResponse {
    const ids = (request.query.get("ids") ?? "").split(",").filter((id) => id !== "");
    if (ids.length === 0) throw apiError(400, "MISSING_ARGUMENT", "ids: a list of record ids is required");
    if (ids.length > COLLECTION_LIMIT) {
      throw apiError(
        400,
        "EXCEEDED_ID_LIMIT",
        `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`,
      );
    }
    const allOrNone = request.query.get("allOrNone") === "true";
    const store = this.services.store;
    const context = this.context(request);
    return this.saveAll(
      allOrNone,
      ids,
      (id) => ({ id: store.delete(undefined, id, context).id }),
      (id) => id,
    );
  }

  /** Runs every item; with allOrNone, any failure rolls all back and the others report ALL_OR_NONE_OPERATION_ROLLED_BACK. */
  private saveAll<T>(
    allOrNone: boolean,
    items: T[],
    run: (item: T) => { id: string; created?: boolean },
    idOnFailure: (item: T) => string | undefined = () => undefined,
  ): ApiResponse {
    const savepoint = this.services.store.savepoint();
    const results: (
      | { ok: true; id: string; created?: boolean }
      | { ok: false; id: string | undefined; errors: SaveResultError[] }
    )[] = [];
    for (const item of items) {
      try {
        results.push({ ok: true, ...run(item) });
      } catch (error) {
        if (!(error instanceof SalesforceRecordError)) throw error;
        results.push({ ok: false, id: idOnFailure(item), errors: [error.toSaveResultError()] });
      }
    }
    const failed = results.some((result) => !result.ok);
    if (allOrNone && failed) savepoint.rollback();
    else savepoint.release();
    return {
      status: 200,
      json: results.map((result) => {
        if (!result.ok)
          return {
            ...(result.id === undefined ? {} : { id: result.id }),
            success: false,
            errors: result.errors,
          };
        if (allOrNone && failed) {
          return {
            success: false,
            errors: [
              {
                statusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                message:
                  "Record rolled back because not all records were valid and the request was using AllOrNone header",
                fields: [],
              },
            ],
          };
        }
        return {
          id: result.id,
          success: true,
          errors: [],
          ...(result.created === undefined ? {} : { created: result.created }),
        };
      }),
    };
  }
}
