/**
 * The properties API (`/crm/v3/properties/{objectType}`: list, read, create, update and archive
 * custom properties) and the owners API (`/crm/v3/owners`).
 */
import { z } from "zod";
import { HubSpotApiError, resourceNotFoundError, validationError } from "./simulator-errors.ts";
import {
  parseBody,
  queryFlag,
  queryInteger,
  type Route,
  type RouteRequest,
  type RouteResponse,
  type RouteServices,
  route,
} from "./simulator-routes.ts";
import { objectTypeParameter } from "./simulator-routes-objects.ts";
import { PROPERTY_GROUPS, schemaScopes } from "./simulator-schema.ts";
import type { HubSpotObjectType, HubSpotSimulatorProperty } from "./simulator-types.ts";
import { formatInstant } from "./simulator-values.ts";

const PROPERTY_TYPES = ["string", "number", "date", "datetime", "enumeration", "bool"] as const;
const FIELD_TYPES = [
  "textarea",
  "text",
  "date",
  "file",
  "number",
  "select",
  "radio",
  "checkbox",
  "booleancheckbox",
  "calculation_equation",
  "phonenumber",
  "html",
] as const;

/** Which field types each property type accepts. */
const FIELD_TYPES_BY_TYPE: Record<(typeof PROPERTY_TYPES)[number], readonly string[]> = {
  string: ["text", "textarea", "file", "phonenumber", "html"],
  number: ["number", "calculation_equation"],
  date: ["date"],
  datetime: ["date"],
  enumeration: ["select", "radio", "checkbox", "booleancheckbox", "calculation_equation"],
  bool: ["booleancheckbox", "calculation_equation"],
};

const optionInput = z.strictObject({
  label: z.string(),
  value: z.string(),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean(),
  description: z.string().optional(),
});

const propertyCreate = z.strictObject({
  name: z.string(),
  label: z.string(),
  type: z.enum(PROPERTY_TYPES),
  fieldType: z.enum(FIELD_TYPES),
  groupName: z.string(),
  description: z.string().optional(),
  options: z.array(optionInput).optional(),
  displayOrder: z.number().int().optional(),
  hasUniqueValue: z.boolean().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
  calculationFormula: z.string().optional(),
  externalOptions: z.boolean().optional(),
  referencedObjectType: z.string().optional(),
});

const propertyUpdate = z.strictObject({
  label: z.string().optional(),
  type: z.enum(PROPERTY_TYPES).optional(),
  fieldType: z.enum(FIELD_TYPES).optional(),
  groupName: z.string().optional(),
  description: z.string().optional(),
  options: z.array(optionInput).optional(),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
  calculationFormula: z.string().optional(),
});

const PROPERTY_NAME = /^[a-z][a-z0-9_]*$/;

function propertyNotFound(name: string): HubSpotApiError {
  return new HubSpotApiError(404, `Property ${name} does not exist`, { category: "OBJECT_NOT_FOUND" });
}

function assertGroup(objectType: HubSpotObjectType, groupName: string): void {
  if (!PROPERTY_GROUPS[objectType].includes(groupName)) {
    throw validationError(`Property group ${groupName} does not exist`);
  }
}

function assertFieldType(type: HubSpotSimulatorProperty["type"], fieldType: string): void {
  const allowed = FIELD_TYPES_BY_TYPE[type as (typeof PROPERTY_TYPES)[number]] ?? [];
  if (!allowed.includes(fieldType)) {
    throw validationError(`Field type ${fieldType} is not valid for a property of type ${type}`);
  }
}

function toOptions(
  options: readonly z.infer<typeof optionInput>[] | undefined,
): HubSpotSimulatorProperty["options"] {
  return (options ?? []).map((option, index) => ({
    label: option.label,
    value: option.value,
    displayOrder: option.displayOrder ?? index,
    hidden: option.hidden,
    ...(option.description === undefined ? {} : { description: option.description }),
  }));
}

function listProperties(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  return {
    status: 200,
    json: { results: store.properties(objectType, queryFlag(request.query, "archived")) },
  };
}

function getProperty(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const name = request.params.propertyName ?? "";
  const definition = store.anyProperty(objectType, name);
  if (definition === undefined || definition.archived !== queryFlag(request.query, "archived")) {
    throw propertyNotFound(name);
  }
  return { status: 200, json: definition };
}

function createProperty(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const input = parseBody(propertyCreate, request.body, "PropertyCreate");
  if (!PROPERTY_NAME.test(input.name)) {
    throw validationError(
      `Property name ${input.name} is not valid: use lower-case letters, digits and underscores, starting with a letter`,
    );
  }
  if (input.label.trim() === "") throw validationError("label can not be null or empty");
  assertGroup(objectType, input.groupName);
  assertFieldType(input.type, input.fieldType);
  const existing = store.anyProperty(objectType, input.name);
  if (existing !== undefined) {
    throw new HubSpotApiError(409, `Property named '${input.name}' already exists.`, {
      category: "OBJECT_ALREADY_EXISTS",
    });
  }
  const now = formatInstant(store.now());
  const definition: HubSpotSimulatorProperty = {
    name: input.name,
    label: input.label,
    type: input.type,
    fieldType: input.fieldType,
    description: input.description ?? "",
    groupName: input.groupName,
    options: toOptions(input.options),
    displayOrder: input.displayOrder ?? -1,
    calculated: false,
    externalOptions: input.externalOptions ?? false,
    hasUniqueValue: input.hasUniqueValue ?? false,
    hidden: input.hidden ?? false,
    modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
    formField: input.formField ?? false,
    createdAt: now,
    updatedAt: now,
    archived: false,
  };
  store.putProperty(objectType, definition);
  return { status: 201, json: definition };
}

function customProperty(request: RouteRequest, services: RouteServices): HubSpotSimulatorProperty {
  const objectType = objectTypeParameter(request.params.objectType);
  const name = request.params.propertyName ?? "";
  const definition = services.store.property(objectType, name);
  if (definition === undefined) throw propertyNotFound(name);
  if (definition.modificationMetadata.readOnlyDefinition) {
    throw validationError(`${name} is a HubSpot defined property; its definition can't be changed`);
  }
  return definition;
}

function updateProperty(request: RouteRequest, services: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const definition = customProperty(request, services);
  const input = parseBody(propertyUpdate, request.body, "PropertyUpdate");
  if (input.groupName !== undefined) assertGroup(objectType, input.groupName);
  const type = input.type ?? definition.type;
  const fieldType = input.fieldType ?? definition.fieldType;
  assertFieldType(type, fieldType);
  const updated: HubSpotSimulatorProperty = {
    ...definition,
    type,
    fieldType,
    ...(input.label === undefined ? {} : { label: input.label }),
    ...(input.groupName === undefined ? {} : { groupName: input.groupName }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.options === undefined ? {} : { options: toOptions(input.options) }),
    ...(input.displayOrder === undefined ? {} : { displayOrder: input.displayOrder }),
    ...(input.hidden === undefined ? {} : { hidden: input.hidden }),
    ...(input.formField === undefined ? {} : { formField: input.formField }),
    updatedAt: formatInstant(services.store.now()),
  };
  services.store.putProperty(objectType, updated);
  return { status: 200, json: updated };
}

function archiveProperty(request: RouteRequest, services: RouteServices): RouteResponse {
  const objectType = objectTypeParameter(request.params.objectType);
  const definition = customProperty(request, services);
  const now = formatInstant(services.store.now());
  services.store.putProperty(objectType, { ...definition, archived: true, archivedAt: now, updatedAt: now });
  return { status: 204 };
}

function listOwners(request: RouteRequest, { store, baseUrl }: RouteServices): RouteResponse {
  const limit = queryInteger(request.query, "limit", { defaultValue: 100, min: 1, max: 500 });
  const archived = queryFlag(request.query, "archived");
  const email = request.query.get("email")?.trim().toLowerCase();
  const after = request.query.get("after");
  const offset = after === null || after === "" ? 0 : Number(after);
  if (!Number.isInteger(offset) || offset < 0)
    throw validationError(`after must be a paging cursor; got ${after}`);
  const owners = store.owners.filter(
    (owner) =>
      owner.archived === archived &&
      (email === undefined || email === "" || owner.email.toLowerCase() === email),
  );
  const page = owners.slice(offset, offset + limit);
  const body: Record<string, unknown> = { results: page };
  if (offset + limit < owners.length) {
    const cursor = String(offset + limit);
    const link = new URL(`${baseUrl}/crm/v3/owners/`);
    for (const [key, value] of request.query) if (key !== "after") link.searchParams.append(key, value);
    link.searchParams.set("after", cursor);
    body.paging = { next: { after: cursor, link: link.toString() } };
  }
  return { status: 200, json: body };
}

function getOwner(request: RouteRequest, { store }: RouteServices): RouteResponse {
  const id = request.params.ownerId ?? "";
  const idProperty = request.query.get("idProperty") ?? "id";
  if (idProperty !== "id" && idProperty !== "userId") {
    throw validationError(`idProperty must be one of id, userId; got ${idProperty}`);
  }
  const archived = queryFlag(request.query, "archived");
  const owner = store.owners.find(
    (candidate) =>
      candidate.archived === archived &&
      (idProperty === "id" ? candidate.id === id : String(candidate.userId) === id),
  );
  if (owner === undefined) throw resourceNotFoundError();
  return { status: 200, json: owner };
}

const propertyReadScopes = (params: Record<string, string>): string[][] => [
  schemaScopes(objectTypeParameter(params.objectType), "read"),
];
const propertyWriteScopes = (params: Record<string, string>): string[][] => [
  schemaScopes(objectTypeParameter(params.objectType), "write"),
];
const ownerScopes = (): string[][] => [["crm.objects.owners.read"]];

export function metadataRoutes(): Route[] {
  const properties = "/crm/v3/properties/:objectType";
  return [
    route("GET", properties, { scopes: propertyReadScopes, handle: listProperties }),
    route("POST", properties, { scopes: propertyWriteScopes, handle: createProperty }),
    route("GET", `${properties}/:propertyName`, { scopes: propertyReadScopes, handle: getProperty }),
    route("PATCH", `${properties}/:propertyName`, { scopes: propertyWriteScopes, handle: updateProperty }),
    route("DELETE", `${properties}/:propertyName`, { scopes: propertyWriteScopes, handle: archiveProperty }),
    route("GET", "/crm/v3/owners", { scopes: ownerScopes, handle: listOwners }),
    route("GET", "/crm/v3/owners/:ownerId", { scopes: ownerScopes, handle: getOwner }),
  ];
}
