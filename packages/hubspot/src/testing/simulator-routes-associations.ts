/**
 * The associations v4 API: default and labelled associations between two records, listing a
 * record's associations, the batch endpoints, and the association types ("labels") between two
 * object types.
 */
import { z } from "zod";
import { batchLimitError, HubSpotApiError, validationError } from "./simulator-errors.ts";
import {
  parseBody,
  queryInteger,
  type Route,
  type RouteRequest,
  type RouteResponse,
  type RouteServices,
  route,
} from "./simulator-routes.ts";
import { objectTypeParameter } from "./simulator-routes-objects.ts";
import {
  associationDefinition,
  associationTypesBetween,
  defaultAssociation,
  OBJECT_TYPES,
  objectScopes,
  renderAssociationType,
} from "./simulator-schema.ts";
import type { SimulatorStore } from "./simulator-store.ts";
import type { HubSpotObjectType } from "./simulator-types.ts";
import { formatInstant } from "./simulator-values.ts";

const MAX_BATCH_INPUTS = 1_000;

const idValue = z.union([z.string(), z.number()]).transform((value) => String(value));
const associationSpec = z.strictObject({
  associationCategory: z.enum(["HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"]),
  associationTypeId: z.number().int(),
});
const labelsInput = z.array(associationSpec);
const batchCreateInput = z.strictObject({
  inputs: z.array(
    z.strictObject({
      from: z.strictObject({ id: idValue }),
      to: z.strictObject({ id: idValue }),
      types: z.array(associationSpec),
    }),
  ),
});
const batchDefaultInput = z.strictObject({
  inputs: z.array(
    z.strictObject({ from: z.strictObject({ id: idValue }), to: z.strictObject({ id: idValue }) }),
  ),
});
const batchReadInput = z.strictObject({
  inputs: z.array(z.strictObject({ id: idValue, after: z.string().optional() })),
});
const batchArchiveInput = z.strictObject({
  inputs: z.array(
    z.strictObject({ from: z.strictObject({ id: idValue }), to: z.array(z.strictObject({ id: idValue })) }),
  ),
});

interface Pair {
  from: HubSpotObjectType;
  to: HubSpotObjectType;
}

function pairOf(params: Record<string, string>): Pair {
  return {
    from: objectTypeParameter(params.fromObjectType),
    to: objectTypeParameter(params.toObjectType),
  };
}

const readScopes = (params: Record<string, string>): string[][] => {
  const { from, to } = pairOf(params);
  return [objectScopes(from, "read"), objectScopes(to, "read")];
};
const writeScopes = (params: Record<string, string>): string[][] => {
  const { from, to } = pairOf(params);
  return [objectScopes(from, "write"), objectScopes(to, "write")];
};

function times(store: SimulatorStore): { startedAt: string; completedAt: string } {
  const now = formatInstant(store.now());
  return { startedAt: now, completedAt: now };
}

/** The 404 of an association endpoint naming a record that does not exist. */
function missingRecord(objectType: HubSpotObjectType, id: string): HubSpotApiError {
  return new HubSpotApiError(404, `${OBJECT_TYPES[objectType].upperName}=${id} does not exist`, {
    context: { objectId: [id], objectType: [OBJECT_TYPES[objectType].upperName] },
    category: "OBJECT_NOT_FOUND",
  });
}

function assertLive(store: SimulatorStore, objectType: HubSpotObjectType, id: string): void {
  if (!/^\d+$/.test(id) || store.live(objectType, id) === undefined) throw missingRecord(objectType, id);
}

/** Checks association specs between a pair of object types; returns their type ids. */
function checkSpecs(pair: Pair, specs: readonly z.infer<typeof associationSpec>[]): number[] {
  if (specs.length === 0) throw validationError("At least one association type is required");
  return specs.map((spec) => {
    const definition = associationDefinition(spec.associationTypeId);
    if (
      definition === undefined ||
      spec.associationCategory !== "HUBSPOT_DEFINED" ||
      definition.from !== pair.from ||
      definition.to !== pair.to
    ) {
      throw validationError(
        `${spec.associationCategory} association type ${spec.associationTypeId} is not valid between ${OBJECT_TYPES[pair.from].typeId} and ${OBJECT_TYPES[pair.to].typeId}`,
      );
    }
    return definition.typeId;
  });
}

function labelsBetween(store: SimulatorStore, pair: Pair, fromId: string, toId: string): string[] {
  const association = store.associationsOf(pair.from, fromId, pair.to).find((entry) => entry.toId === toId);
  return (association?.typeIds ?? [])
    .map((typeId) => associationDefinition(typeId)?.label ?? null)
    .filter((label): label is string => label !== null);
}

/** `LabelsBetweenObjectPair`. */
function labelsBetweenObjectPair(
  store: SimulatorStore,
  pair: Pair,
  fromId: string,
  toId: string,
): Record<string, unknown> {
  return {
    fromObjectTypeId: OBJECT_TYPES[pair.from].typeId,
    fromObjectId: Number(fromId),
    toObjectTypeId: OBJECT_TYPES[pair.to].typeId,
    toObjectId: Number(toId),
    labels: labelsBetween(store, pair, fromId, toId),
  };
}

/** Creates the default association both ways; returns the two `PublicDefaultAssociation`s. */
function associateDefault(
  store: SimulatorStore,
  pair: Pair,
  fromId: string,
  toId: string,
): Record<string, unknown>[] {
  const definition = defaultAssociation(pair.from, pair.to);
  if (definition === undefined) {
    throw validationError(
      `There is no default association between ${OBJECT_TYPES[pair.from].typeId} and ${OBJECT_TYPES[pair.to].typeId}`,
    );
  }
  store.associate(pair.from, fromId, pair.to, toId, [definition.typeId]);
  return [
    {
      from: { id: fromId },
      to: { id: toId },
      associationSpec: { associationCategory: "HUBSPOT_DEFINED", associationTypeId: definition.typeId },
    },
    {
      from: { id: toId },
      to: { id: fromId },
      associationSpec: {
        associationCategory: "HUBSPOT_DEFINED",
        associationTypeId: definition.inverseTypeId,
      },
    },
  ];
}

/** `MultiAssociatedObjectWithLabel` entries of one record. */
function associatedObjects(store: SimulatorStore, pair: Pair, fromId: string): Record<string, unknown>[] {
  return store.associationsOf(pair.from, fromId, pair.to).map((association) => ({
    toObjectId: Number(association.toId),
    associationTypes: association.typeIds.map((typeId) => {
      const definition = associationDefinition(typeId);
      return definition === undefined
        ? { category: "HUBSPOT_DEFINED", typeId, label: null }
        : renderAssociationType(definition);
    }),
  }));
}

function objectPair(request: RouteRequest): Pair & { fromId: string; toId: string } {
  return {
    from: objectTypeParameter(request.params.fromObjectType),
    to: objectTypeParameter(request.params.toObjectType),
    fromId: request.params.fromObjectId ?? "",
    toId: request.params.toObjectId ?? "",
  };
}

function createDefault(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const pair = objectPair(request);
  assertLive(store, pair.from, pair.fromId);
  assertLive(store, pair.to, pair.toId);
  const results = associateDefault(store, pair, pair.fromId, pair.toId);
  return { status: 200, json: { status: "COMPLETE", results, ...times(store) } };
}

function createLabelled(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const pair = objectPair(request);
  const specs = parseBody(labelsInput, request.body, "List<AssociationSpec>");
  assertLive(store, pair.from, pair.fromId);
  assertLive(store, pair.to, pair.toId);
  const typeIds = checkSpecs(pair, specs);
  store.associate(pair.from, pair.fromId, pair.to, pair.toId, typeIds);
  return { status: 201, json: labelsBetweenObjectPair(store, pair, pair.fromId, pair.toId) };
}

function removeAssociation(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const pair = objectPair(request);
  store.dissociate(pair.from, pair.fromId, pair.to, pair.toId);
  return { status: 204 };
}

function listAssociations(request: RouteRequest, { store, baseUrl }: RouteServices): RouteResponse {
  const pair = objectPair(request);
  assertLive(store, pair.from, pair.fromId);
  const limit = queryInteger(request.query, "limit", { defaultValue: 500, min: 1, max: 500 });
  const after = request.query.get("after");
  const all = associatedObjects(store, pair, pair.fromId);
  const start =
    after === null || after === "" ? 0 : all.findIndex((entry) => String(entry.toObjectId) === after);
  const from = start < 0 ? all.length : start;
  const page = all.slice(from, from + limit);
  const next = all[from + limit];
  const body: Record<string, unknown> = { results: page };
  if (next !== undefined) {
    const cursor = String(next.toObjectId);
    body.paging = {
      next: { after: cursor, link: `${baseUrl}${request.path}?limit=${limit}&after=${cursor}` },
    };
  }
  return { status: 200, json: body };
}

function batchCreate(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const pair = pairOf(request.params);
  const input = parseBody(batchCreateInput, request.body, "BatchInputPublicAssociationMultiPost");
  if (input.inputs.length > MAX_BATCH_INPUTS) throw batchLimitError(MAX_BATCH_INPUTS);
  const checked = input.inputs.map((entry) => {
    assertLive(store, pair.from, entry.from.id);
    assertLive(store, pair.to, entry.to.id);
    return { fromId: entry.from.id, toId: entry.to.id, typeIds: checkSpecs(pair, entry.types) };
  });
  const results = checked.map((entry) => {
    store.associate(pair.from, entry.fromId, pair.to, entry.toId, entry.typeIds);
    return labelsBetweenObjectPair(store, pair, entry.fromId, entry.toId);
  });
  return { status: 201, json: { status: "COMPLETE", results, ...times(store) } };
}

function batchDefault(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const pair = pairOf(request.params);
  const input = parseBody(batchDefaultInput, request.body, "BatchInputPublicDefaultAssociationMultiPost");
  if (input.inputs.length > MAX_BATCH_INPUTS) throw batchLimitError(MAX_BATCH_INPUTS);
  for (const entry of input.inputs) {
    assertLive(store, pair.from, entry.from.id);
    assertLive(store, pair.to, entry.to.id);
  }
  const results = input.inputs.flatMap((entry) => associateDefault(store, pair, entry.from.id, entry.to.id));
  return { status: 200, json: { status: "COMPLETE", results, ...times(store) } };
}

function batchRead(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const pair = pairOf(request.params);
  const input = parseBody(batchReadInput, request.body, "BatchInputPublicFetchAssociationsBatchRequest");
  if (input.inputs.length > MAX_BATCH_INPUTS) throw batchLimitError(MAX_BATCH_INPUTS);
  const results: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  const from = OBJECT_TYPES[pair.from].singular;
  const to = OBJECT_TYPES[pair.to].singular;
  for (const entry of input.inputs) {
    const associated =
      store.live(pair.from, entry.id) === undefined ? [] : associatedObjects(store, pair, entry.id);
    if (associated.length === 0) {
      errors.push({
        status: "error",
        category: "OBJECT_NOT_FOUND",
        subCategory: "crm.associations.NO_ASSOCIATIONS_FOUND",
        message: `No ${to} is associated with ${from} ${entry.id}.`,
        context: { fromObjectId: [entry.id], fromObjectType: [from], toObjectType: [to] },
      });
      continue;
    }
    results.push({ from: { id: entry.id }, to: associated });
  }
  const body: Record<string, unknown> = { status: "COMPLETE", results };
  if (errors.length > 0) {
    body.numErrors = errors.length;
    body.errors = errors;
  }
  Object.assign(body, times(store));
  return { status: errors.length > 0 ? 207 : 200, json: body };
}

function batchArchive(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const pair = pairOf(request.params);
  const input = parseBody(batchArchiveInput, request.body, "BatchInputPublicAssociationMultiArchive");
  if (input.inputs.length > MAX_BATCH_INPUTS) throw batchLimitError(MAX_BATCH_INPUTS);
  for (const entry of input.inputs) {
    for (const target of entry.to) store.dissociate(pair.from, entry.from.id, pair.to, target.id);
  }
  return { status: 204 };
}

function labels(request: RouteRequest): RouteResponse {
  const pair = pairOf(request.params);
  return {
    status: 200,
    json: { results: associationTypesBetween(pair.from, pair.to).map(renderAssociationType) },
  };
}

/** The v4 association routes (the `default` route before the labelled one). */
export function associationRoutes(): Route[] {
  const object = "/crm/v4/objects/:fromObjectType/:fromObjectId/associations";
  const batch = "/crm/v4/associations/:fromObjectType/:toObjectType/batch";
  return [
    route("PUT", `${object}/default/:toObjectType/:toObjectId`, {
      scopes: writeScopes,
      handle: createDefault,
    }),
    route("PUT", `${object}/:toObjectType/:toObjectId`, { scopes: writeScopes, handle: createLabelled }),
    route("DELETE", `${object}/:toObjectType/:toObjectId`, {
      scopes: writeScopes,
      handle: removeAssociation,
    }),
    route("GET", `${object}/:toObjectType`, { scopes: readScopes, handle: listAssociations }),
    route("POST", `${batch}/create`, { scopes: writeScopes, handle: batchCreate }),
    route("POST", `${batch}/associate/default`, { scopes: writeScopes, handle: batchDefault }),
    route("POST", `${batch}/read`, { scopes: readScopes, handle: batchRead }),
    route("POST", `${batch}/archive`, { scopes: writeScopes, handle: batchArchive }),
    route("GET", "/crm/v4/associations/:fromObjectType/:toObjectType/labels", {
      scopes: readScopes,
      handle: labels,
    }),
    route("GET", "/crm/associations/v4/:fromObjectType/:toObjectType/labels", {
      scopes: readScopes,
      handle: labels,
    }),
  ];
}
