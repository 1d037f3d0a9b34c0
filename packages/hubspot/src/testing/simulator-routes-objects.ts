/**
 * The CRM object APIs (`/crm/v3/objects/{objectType}`) for contacts, companies, calls and
 * communications: list, get (by id or unique property), create (with inline associations), update,
 * archive, search, and batch read/create/update/upsert/archive.
 */
import { z } from "zod";
import {
  batchLimitError,
  contactExistsError,
  type HubSpotApiError,
  isHubSpotApiError,
  objectNotFoundError,
  validationError,
} from "./simulator-errors.ts";
import {
  parseBody,
  queryFlag,
  queryInteger,
  queryList,
  type Route,
  type RouteRequest,
  type RouteResponse,
  type RouteServices,
  route,
} from "./simulator-routes.ts";
import { associationDefinition, OBJECT_TYPES, objectScopes, resolveObjectType } from "./simulator-schema.ts";
import {
  assertFilterLimits,
  DEFAULT_SEARCH_LIMIT,
  MAX_SEARCH_LIMIT,
  MAX_SEARCH_RESULTS,
  runSearch,
  SEARCH_OPERATORS,
  type SearchRequest,
  type SearchSort,
} from "./simulator-search.ts";
import {
  type PropertyValues,
  renderRecord,
  type SimulatorStore,
  type StoredObject,
} from "./simulator-store.ts";
import type { HubSpotObjectType } from "./simulator-types.ts";
import { formatInstant } from "./simulator-values.ts";

const MAX_BATCH_INPUTS = 100;
const MAX_HISTORY_BATCH_INPUTS = 50;

/** The object type of a path segment; HubSpot's 400 for an unknown one. */
export function objectTypeParameter(segment: string | undefined): HubSpotObjectType {
  const type = resolveObjectType(segment ?? "");
  if (type === undefined) {
    throw validationError(`Unable to infer object type from: ${segment ?? ""}`);
  }
  return type;
}

const readScopes = (params: Record<string, string>): string[][] => [
  objectScopes(objectTypeParameter(params.objectType), "read"),
];
const writeScopes = (params: Record<string, string>): string[][] => [
  objectScopes(objectTypeParameter(params.objectType), "write"),
];

// ------------------------------------------------------------------ body schemas

const idValue = z.union([z.string(), z.number()]).transform((value) => String(value));
const propertiesInput = z.record(z.string(), z.unknown());
const associationSpec = z.strictObject({
  associationCategory: z.enum(["HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"]),
  associationTypeId: z.number().int(),
});
const inlineAssociation = z.strictObject({
  to: z.strictObject({ id: idValue }),
  types: z.array(associationSpec),
});
const createInput = z.strictObject({
  properties: propertiesInput,
  associations: z.array(inlineAssociation).optional(),
  objectWriteTraceId: z.string().optional(),
});
const updateInput = z.strictObject({
  properties: propertiesInput,
  objectWriteTraceId: z.string().optional(),
});
const batchReadInput = z.strictObject({
  inputs: z.array(z.strictObject({ id: idValue })),
  properties: z.array(z.string()).optional(),
  propertiesWithHistory: z.array(z.string()).optional(),
  idProperty: z.string().optional(),
});
const batchCreateInput = z.strictObject({ inputs: z.array(createInput) });
const batchUpdateInput = z.strictObject({
  inputs: z.array(
    z.strictObject({
      id: idValue,
      idProperty: z.string().optional(),
      properties: propertiesInput,
      objectWriteTraceId: z.string().optional(),
    }),
  ),
});
const batchUpsertInput = z.strictObject({
  inputs: z.array(
    z.strictObject({
      id: idValue,
      idProperty: z.string(),
      properties: propertiesInput,
      objectWriteTraceId: z.string().optional(),
    }),
  ),
});
const batchArchiveInput = z.strictObject({ inputs: z.array(z.strictObject({ id: idValue })) });
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((value) => String(value));
const searchInput = z.strictObject({
  filterGroups: z
    .array(
      z.strictObject({
        filters: z.array(
          z.strictObject({
            propertyName: z.string(),
            operator: z.enum(SEARCH_OPERATORS),
            value: scalar.optional(),
            values: z.array(scalar).optional(),
            highValue: scalar.optional(),
          }),
        ),
      }),
    )
    .optional(),
  sorts: z
    .array(
      z.union([
        z.string(),
        z.strictObject({ propertyName: z.string(), direction: z.enum(["ASCENDING", "DESCENDING"]) }),
      ]),
    )
    .optional(),
  query: z.string().optional(),
  properties: z.array(z.string()).optional(),
  limit: z.number().int().optional(),
  after: z.union([z.string(), z.number()]).optional(),
});

// ------------------------------------------------------------------ helpers

function batchTimes(store: SimulatorStore): { startedAt: string; completedAt: string } {
  const now = formatInstant(store.now());
  return { startedAt: now, completedAt: now };
}

/** The property a request identifies records by: the record id, `email` for contacts, or a unique property. */
function identifyingProperty(
  store: SimulatorStore,
  objectType: HubSpotObjectType,
  idProperty: string | undefined | null,
): string | undefined {
  if (idProperty === undefined || idProperty === null || idProperty === "" || idProperty === "hs_object_id") {
    return undefined;
  }
  if (objectType === "contacts" && idProperty === "email") return "email";
  const definition = store.property(objectType, idProperty);
  if (definition?.hasUniqueValue === true) return idProperty;
  throw validationError(`${idProperty} is not a unique identifier property of ${objectType}`);
}

/** Finds a record by id or unique property value (live ones, or archived ones when asked). */
function findRecord(
  store: SimulatorStore,
  objectType: HubSpotObjectType,
  value: string,
  property: string | undefined,
  archived = false,
): StoredObject | undefined {
  if (property === undefined) {
    if (!/^\d+$/.test(value)) return undefined;
    const record = store.find(objectType, String(Number(value)));
    return record !== undefined && record.archived === archived ? record : undefined;
  }
  if (archived) {
    return store
      .list(objectType, true)
      .find((record) => record.properties.get(property)?.toLowerCase() === value.toLowerCase());
  }
  return store.findByProperty(objectType, property, value);
}

/** The `associations` of a v3 GET: per requested object type, the associated ids with each type name. */
function associationsBlock(
  store: SimulatorStore,
  record: StoredObject,
  requested: readonly string[] | undefined,
): Record<string, { results: { id: string; type: string }[] }> | undefined {
  if (requested === undefined) return undefined;
  const block: Record<string, { results: { id: string; type: string }[] }> = {};
  for (const name of requested) {
    const toType = resolveObjectType(name);
    if (toType === undefined) continue;
    const results: { id: string; type: string }[] = [];
    for (const association of store.associationsOf(record.objectType, record.id, toType)) {
      for (const typeId of association.typeIds) {
        const definition = associationDefinition(typeId);
        results.push({ id: association.toId, type: definition?.name ?? String(typeId) });
      }
    }
    if (results.length > 0) block[toType] = { results };
  }
  return Object.keys(block).length > 0 ? block : undefined;
}

function renderWithAssociations(
  store: SimulatorStore,
  record: StoredObject,
  names: readonly string[] | undefined,
  associations: readonly string[] | undefined,
  withHistory?: readonly string[],
): Record<string, unknown> {
  const rendered: Record<string, unknown> = { ...store.render(record, names) };
  if (withHistory !== undefined && withHistory.length > 0) {
    rendered.propertiesWithHistory = store.renderHistory(record, withHistory);
  }
  const block = associationsBlock(store, record, associations);
  if (block !== undefined) rendered.associations = block;
  return rendered;
}

type AssociationInput = z.infer<typeof inlineAssociation>;

/** Checks inline associations of a create: known HUBSPOT_DEFINED types from this object type, live targets. */
function checkInlineAssociations(
  store: SimulatorStore,
  objectType: HubSpotObjectType,
  associations: readonly AssociationInput[] | undefined,
): { toType: HubSpotObjectType; toId: string; typeIds: number[] }[] {
  const checked: { toType: HubSpotObjectType; toId: string; typeIds: number[] }[] = [];
  for (const association of associations ?? []) {
    if (association.types.length === 0) {
      throw validationError("Each association needs at least one association type");
    }
    let toType: HubSpotObjectType | undefined;
    const typeIds: number[] = [];
    for (const type of association.types) {
      const definition = associationDefinition(type.associationTypeId);
      if (definition === undefined || type.associationCategory !== "HUBSPOT_DEFINED") {
        throw validationError(
          `association type id ${type.associationTypeId} doesn't exist for category ${type.associationCategory}`,
        );
      }
      if (definition.from !== objectType) {
        throw validationError(
          `invalid from object type ${OBJECT_TYPES[objectType].typeId} for associations to be created. expected: ${OBJECT_TYPES[definition.from].typeId}`,
        );
      }
      if (toType !== undefined && toType !== definition.to) {
        throw validationError("All association types of one association must point to the same object type");
      }
      toType = definition.to;
      typeIds.push(definition.typeId);
    }
    if (toType === undefined) continue;
    const toId = association.to.id;
    if (store.live(toType, toId) === undefined) {
      throw validationError("One or more associations are invalid", {
        context: {
          INVALID_OBJECT_IDS: [`${OBJECT_TYPES[toType].upperName}=${toId} is not valid`],
          objectId: [toId],
          objectType: [OBJECT_TYPES[toType].upperName],
        },
      });
    }
    checked.push({ toType, toId, typeIds });
  }
  return checked;
}

/** The email a create or update sets (contacts only). */
function emailOf(objectType: HubSpotObjectType, values: PropertyValues): string | null | undefined {
  return objectType === "contacts" ? values.get("email") : undefined;
}

function assertUniqueIds(ids: readonly string[]): void {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) duplicates.add(id);
    seen.add(id);
  }
  if (duplicates.size > 0) {
    throw validationError(
      `Duplicate IDs found in batch input: [${[...duplicates].join(", ")}]. IDs must be unique`,
    );
  }
}

function assertBatchSize(inputs: readonly unknown[]): void {
  if (inputs.length > MAX_BATCH_INPUTS) throw batchLimitError(MAX_BATCH_INPUTS);
}

/** The error entry of a multi-status batch answer. */
function batchErrorEntry(error: HubSpotApiError, context: Record<string, string[]>): Record<string, unknown> {
  return {
    status: "error",
    category: error.category ?? "VALIDATION_ERROR",
    message: error.message,
    context,
  };
}

function batchAnswer(
  store: SimulatorStore,
  status: number,
  results: unknown[],
  errors: Record<string, unknown>[],
): RouteResponse {
  const body: Record<string, unknown> = { status: "COMPLETE", results };
  if (errors.length > 0) {
    body.numErrors = errors.length;
    body.errors = errors;
  }
  Object.assign(body, batchTimes(store));
  return { status: errors.length > 0 ? 207 : status, json: body };
}

// ------------------------------------------------------------------ handlers

function listObjects(request: RouteRequest, { store, baseUrl }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const limit = queryInteger(request.query, "limit", { defaultValue: 10, min: 1, max: 100 });
  const after = request.query.get("after");
  if (after !== null && after !== "" && !/^\d+$/.test(after)) {
    throw validationError(`after must be a record id; got ${after}`);
  }
  const archived = queryFlag(request.query, "archived");
  const names = queryList(request.query, "properties") ?? OBJECT_TYPES[objectType].defaultProperties;
  const associations = queryList(request.query, "associations");
  const records = store
    .list(objectType, archived)
    .filter((record) => after === null || after === "" || Number(record.id) >= Number(after));
  const page = records.slice(0, limit);
  const next = records[limit];
  const body: Record<string, unknown> = {
    results: page.map((record) =>
      renderWithAssociations(
        store,
        record,
        names,
        associations,
        queryList(request.query, "propertiesWithHistory"),
      ),
    ),
  };
  if (next !== undefined) {
    const link = new URL(`${baseUrl}${request.path}`);
    for (const [key, value] of request.query) if (key !== "after") link.searchParams.append(key, value);
    link.searchParams.set("after", next.id);
    body.paging = { next: { after: next.id, link: link.toString() } };
  }
  return { status: 200, json: body };
}

function getObject(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const id = request.params.objectId ?? "";
  const property = identifyingProperty(store, objectType, request.query.get("idProperty"));
  const record = findRecord(store, objectType, id, property, queryFlag(request.query, "archived"));
  if (record === undefined) throw objectNotFoundError(id);
  const names = queryList(request.query, "properties") ?? OBJECT_TYPES[objectType].defaultProperties;
  return {
    status: 200,
    json: renderWithAssociations(
      store,
      record,
      names,
      queryList(request.query, "associations"),
      queryList(request.query, "propertiesWithHistory"),
    ),
  };
}

function createObject(request: RouteRequest, { store, apiOrigin }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const input = parseBody(createInput, request.body, "SimplePublicObjectInputForCreate");
  const values = store.checkProperties(objectType, input.properties, "create");
  store.assertEmailFree(emailOf(objectType, values));
  const associations = checkInlineAssociations(store, objectType, input.associations);
  const record = store.insert(objectType, values, apiOrigin);
  for (const association of associations) {
    store.associate(objectType, record.id, association.toType, association.toId, association.typeIds);
  }
  return { status: 201, json: store.render(record) };
}

function updateObject(request: RouteRequest, { store, apiOrigin }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const id = request.params.objectId ?? "";
  const input = parseBody(updateInput, request.body, "SimplePublicObjectInput");
  const property = identifyingProperty(store, objectType, request.query.get("idProperty"));
  const record = findRecord(store, objectType, id, property);
  if (record === undefined) throw objectNotFoundError(id);
  const values = store.checkProperties(objectType, input.properties, "update");
  store.assertEmailFree(emailOf(objectType, values), record.id);
  store.update(record, values, apiOrigin);
  return { status: 200, json: store.render(record) };
}

function archiveObject(request: RouteRequest, { store, apiOrigin }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  // Archiving an id that does not exist (or is archived already) is a no-op: still 204.
  const record = findRecord(store, objectType, request.params.objectId ?? "", undefined);
  if (record !== undefined) store.archive(record, apiOrigin);
  return { status: 204 };
}

function searchObjects(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const input = parseBody(searchInput, request.body ?? {}, "PublicObjectSearchRequest");
  const limit = input.limit ?? DEFAULT_SEARCH_LIMIT;
  if (limit < 0 || limit > MAX_SEARCH_LIMIT) {
    throw validationError(`limit must be between 0 and ${MAX_SEARCH_LIMIT}; got ${limit}`);
  }
  const afterText = input.after === undefined ? "0" : String(input.after);
  if (!/^\d+$/.test(afterText))
    throw validationError(`after must be a non-negative integer; got ${afterText}`);
  const offset = Number(afterText);
  if (offset >= MAX_SEARCH_RESULTS) {
    throw validationError(
      `The search API returns at most ${MAX_SEARCH_RESULTS} results for a query; after=${offset} is beyond it`,
    );
  }
  const filterGroups = (input.filterGroups ?? []).map((group) =>
    group.filters.map((filter) => ({
      propertyName: filter.propertyName,
      operator: filter.operator,
      value: filter.value,
      values: filter.values,
      highValue: filter.highValue,
    })),
  );
  assertFilterLimits(filterGroups);
  const sorts: SearchSort[] = (input.sorts ?? []).map((sort) =>
    typeof sort === "string"
      ? sort.startsWith("-")
        ? { propertyName: sort.slice(1), direction: "DESCENDING" }
        : { propertyName: sort, direction: "ASCENDING" }
      : sort,
  );
  const searchRequest: SearchRequest = { filterGroups, sorts, query: input.query, limit, offset };
  const definitionOf = (name: string) => store.anyProperty(objectType, name);
  const { total, page, nextOffset } = runSearch(
    objectType,
    store.searchable(objectType),
    searchRequest,
    definitionOf,
  );
  const names =
    input.properties !== undefined && input.properties.length > 0
      ? input.properties
      : OBJECT_TYPES[objectType].defaultProperties;
  const body: Record<string, unknown> = {
    total,
    results: page.map((snapshot) =>
      renderRecord(snapshot, objectType, names, (name) => definitionOf(name) !== undefined),
    ),
  };
  if (nextOffset !== undefined) body.paging = { next: { after: String(nextOffset) } };
  return { status: 200, json: body };
}

function batchRead(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const input = parseBody(batchReadInput, request.body, "BatchReadInputSimplePublicObjectId");
  assertBatchSize(input.inputs);
  const withHistory = input.propertiesWithHistory ?? [];
  if (withHistory.length > 0 && input.inputs.length > MAX_HISTORY_BATCH_INPUTS) {
    throw validationError(
      `The maximum number of inputs supported in a batch request for property histories is ${MAX_HISTORY_BATCH_INPUTS}. Please reduce the number of items and try again`,
    );
  }
  const ids = input.inputs.map((entry) => entry.id);
  assertUniqueIds(ids);
  const property = identifyingProperty(store, objectType, input.idProperty);
  const archived = queryFlag(request.query, "archived");
  const names =
    input.properties !== undefined && input.properties.length > 0
      ? input.properties
      : OBJECT_TYPES[objectType].defaultProperties;
  const results: unknown[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const record = findRecord(store, objectType, id, property, archived);
    if (record === undefined) missing.push(id);
    else results.push(renderWithAssociations(store, record, names, undefined, withHistory));
  }
  const errors =
    missing.length === 0
      ? []
      : [
          {
            status: "error",
            category: "OBJECT_NOT_FOUND",
            message: `Could not get some ${OBJECT_TYPES[objectType].upperName} objects, they may be deleted or not exist. Check that ids are valid.`,
            context: { ids: missing },
          },
        ];
  return batchAnswer(store, 200, results, errors);
}

function batchCreate(request: RouteRequest, { store, apiOrigin }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const input = parseBody(batchCreateInput, request.body, "BatchInputSimplePublicObjectBatchInputForCreate");
  assertBatchSize(input.inputs);
  // With an objectWriteTraceId on every input, failures are reported per input (207); otherwise the
  // first failure fails the whole batch and nothing is created.
  const multiStatus =
    input.inputs.length > 0 && input.inputs.every((entry) => entry.objectWriteTraceId !== undefined);
  const prepared: {
    values: PropertyValues;
    associations: ReturnType<typeof checkInlineAssociations>;
    traceId: string | undefined;
  }[] = [];
  const errors: Record<string, unknown>[] = [];
  const emails = new Map<string, number>();
  input.inputs.forEach((entry, index) => {
    try {
      const values = store.checkProperties(objectType, entry.properties, "create");
      const email = emailOf(objectType, values);
      store.assertEmailFree(email);
      if (email !== undefined && email !== null) {
        const key = email.trim().toLowerCase();
        if (emails.has(key)) throw validationError(`Duplicate emails found in batch input: [${email}]`);
        emails.set(key, index);
      }
      const associations = checkInlineAssociations(store, objectType, entry.associations);
      prepared.push({ values, associations, traceId: entry.objectWriteTraceId });
    } catch (error) {
      if (!multiStatus || !isHubSpotApiError(error)) throw error;
      errors.push(batchErrorEntry(error, { objectWriteTraceId: [entry.objectWriteTraceId ?? ""] }));
    }
  });
  const results = prepared.map((entry) => {
    const record = store.insert(objectType, entry.values, apiOrigin);
    for (const association of entry.associations) {
      store.associate(objectType, record.id, association.toType, association.toId, association.typeIds);
    }
    return {
      ...store.render(record),
      ...(entry.traceId === undefined ? {} : { objectWriteTraceId: entry.traceId }),
    };
  });
  return batchAnswer(store, 201, results, errors);
}

function batchUpdate(request: RouteRequest, { store, apiOrigin }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const input = parseBody(batchUpdateInput, request.body, "BatchInputSimplePublicObjectBatchInput");
  assertBatchSize(input.inputs);
  assertUniqueIds(input.inputs.map((entry) => entry.id));
  const prepared: { record: StoredObject; values: PropertyValues }[] = [];
  const missing: string[] = [];
  for (const entry of input.inputs) {
    const property = identifyingProperty(store, objectType, entry.idProperty);
    const record = findRecord(store, objectType, entry.id, property);
    if (record === undefined) {
      missing.push(entry.id);
      continue;
    }
    const values = store.checkProperties(objectType, entry.properties, "update");
    store.assertEmailFree(emailOf(objectType, values), record.id);
    prepared.push({ record, values });
  }
  const results = prepared.map(({ record, values }) => {
    store.update(record, values, apiOrigin);
    return store.render(record);
  });
  const errors =
    missing.length === 0
      ? []
      : [
          {
            status: "error",
            category: "OBJECT_NOT_FOUND",
            message: `Could not update some ${OBJECT_TYPES[objectType].upperName} objects, they may be deleted or not exist. Check that ids are valid.`,
            context: { ids: missing },
          },
        ];
  return batchAnswer(store, 200, results, errors);
}

function batchUpsert(request: RouteRequest, { store, apiOrigin }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const input = parseBody(batchUpsertInput, request.body, "BatchInputSimplePublicObjectBatchInputUpsert");
  assertBatchSize(input.inputs);
  assertUniqueIds(input.inputs.map((entry) => entry.id.toLowerCase()));
  const prepared = input.inputs.map((entry) => {
    const property = identifyingProperty(store, objectType, entry.idProperty);
    if (property === undefined) {
      throw validationError("Upserts need idProperty: a unique identifier property (or email for contacts)");
    }
    const record = findRecord(store, objectType, entry.id, property);
    const values = store.checkProperties(
      objectType,
      entry.properties,
      record === undefined ? "create" : "update",
    );
    if (record === undefined && !values.has(property)) {
      const checked = store.checkProperties(objectType, { [property]: entry.id }, "update");
      for (const [name, value] of checked) values.set(name, value);
    }
    const email = emailOf(objectType, values);
    if (email !== undefined && email !== null) {
      const owner = store.findByProperty("contacts", "email", email);
      if (owner !== undefined && owner.id !== record?.id) throw contactExistsError(owner.id);
    }
    return { record, values };
  });
  const results = prepared.map(({ record, values }) => {
    if (record === undefined) {
      const created = store.insert(objectType, values, apiOrigin);
      return { ...store.render(created), new: true };
    }
    store.update(record, values, apiOrigin);
    return { ...store.render(record), new: false };
  });
  return batchAnswer(store, 200, results, []);
}

function batchArchive(request: RouteRequest, { store, apiOrigin }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const input = parseBody(batchArchiveInput, request.body, "BatchInputSimplePublicObjectId");
  assertBatchSize(input.inputs);
  for (const entry of input.inputs) {
    const record = findRecord(store, objectType, entry.id, undefined);
    if (record !== undefined) store.archive(record, apiOrigin);
  }
  return { status: 204 };
}

/** The object routes (search and batch before the `/{objectId}` routes). */
export function objectRoutes(): Route[] {
  const base = "/crm/v3/objects/:objectType";
  return [
    route("POST", `${base}/search`, { scopes: readScopes, handle: searchObjects, isSearch: true }),
    route("POST", `${base}/batch/read`, { scopes: readScopes, handle: batchRead }),
    route("POST", `${base}/batch/create`, { scopes: writeScopes, handle: batchCreate }),
    route("POST", `${base}/batch/update`, { scopes: writeScopes, handle: batchUpdate }),
    route("POST", `${base}/batch/upsert`, { scopes: writeScopes, handle: batchUpsert }),
    route("POST", `${base}/batch/archive`, { scopes: writeScopes, handle: batchArchive }),
    route("GET", base, { scopes: readScopes, handle: listObjects }),
    route("POST", base, { scopes: writeScopes, handle: createObject }),
    route("GET", `${base}/:objectId`, { scopes: readScopes, handle: getObject }),
    route("PATCH", `${base}/:objectId`, { scopes: writeScopes, handle: updateObject }),
    route("DELETE", `${base}/:objectId`, { scopes: writeScopes, handle: archiveObject }),
  ];
}
