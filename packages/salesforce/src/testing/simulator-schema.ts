/**
 * The simulated org's metadata: Account, Contact, Lead, Task and User with their
 * standard fields (the subset a CRM integration touches), custom fields from the
 * options, and picklist values. Field names are case-insensitive everywhere, as
 * in Salesforce; every lookup goes through {@link ObjectDefinition.field}.
 */
import { ConfigurationError } from "@linq-connect/core";
import type {
  CustomFieldDefinition,
  PicklistDefinition,
  SalesforceSimulatorOptions,
  SalesforceStandardObject,
} from "./simulator-types.ts";

export type FieldType =
  | "id"
  | "string"
  | "textarea"
  | "email"
  | "phone"
  | "url"
  | "picklist"
  | "combobox"
  | "boolean"
  | "date"
  | "datetime"
  | "reference"
  | "int"
  | "double"
  | "currency";

export interface PicklistSettings {
  values: string[];
  defaultValue: string | null;
  restricted: boolean;
}

export interface FieldDefinition {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  defaultedOnCreate: boolean;
  externalId: boolean;
  unique: boolean;
  custom: boolean;
  idLookup: boolean;
  nameField: boolean;
  calculated: boolean;
  filterable: boolean;
  sortable: boolean;
  referenceTo: string[];
  relationshipName: string | null;
  picklist: PicklistSettings | null;
  precision: number;
  scale: number;
  /** Searched by SOSL `IN NAME FIELDS`. */
  nameSearch: boolean;
}

export interface ObjectDefinition {
  name: SalesforceStandardObject;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  fields: FieldDefinition[];
  /** Case-insensitive field lookup. */
  field(name: string): FieldDefinition | undefined;
  /** Case-insensitive lookup of a relationship name (`Account`, `Who`, `Owner`) to its reference field. */
  relationship(name: string): FieldDefinition | undefined;
}

/** The whole schema of the org. */
export class Schema {
  private readonly objects = new Map<string, ObjectDefinition>();
  private readonly byPrefix = new Map<string, ObjectDefinition>();

  constructor(options: Pick<SalesforceSimulatorOptions, "customFields" | "picklists">) {
    for (const definition of standardObjects()) {
      const custom = options.customFields?.[definition.name] ?? [];
      for (const field of custom) definition.fields.push(customField(definition.name, field));
      const object = finishObject(definition);
      this.objects.set(object.name.toLowerCase(), object);
      this.byPrefix.set(object.keyPrefix, object);
    }
    for (const [key, value] of Object.entries(options.picklists ?? {})) this.applyPicklist(key, value);
  }

  /** Case-insensitive object lookup. */
  object(name: string): ObjectDefinition | undefined {
    return this.objects.get(name.toLowerCase());
  }

  /** The object an 18-character id belongs to, by key prefix. */
  objectForId(id: string): ObjectDefinition | undefined {
    return this.byPrefix.get(id.slice(0, 3));
  }

  all(): ObjectDefinition[] {
    return [...this.objects.values()];
  }

  private applyPicklist(key: string, value: string[] | PicklistDefinition): void {
    const [objectName, fieldName, ...rest] = key.split(".");
    const object = objectName === undefined ? undefined : this.object(objectName);
    const field = fieldName === undefined ? undefined : object?.field(fieldName);
    if (object === undefined || field === undefined || rest.length > 0) {
      throw new ConfigurationError(
        `picklists: ${JSON.stringify(key)} is not an Object.Field of the simulator`,
      );
    }
    if (field.picklist === null) {
      throw new ConfigurationError(`picklists: ${object.name}.${field.name} is not a picklist`);
    }
    const definition: PicklistDefinition = Array.isArray(value) ? { values: value } : value;
    if (!Array.isArray(definition.values) || definition.values.length === 0) {
      throw new ConfigurationError(`picklists: ${key} needs at least one value`);
    }
    const defaultValue =
      definition.defaultValue ??
      (field.picklist.defaultValue !== null && definition.values.includes(field.picklist.defaultValue)
        ? field.picklist.defaultValue
        : field.defaultedOnCreate
          ? (definition.values[0] ?? null)
          : null);
    if (defaultValue !== null && !definition.values.includes(defaultValue)) {
      throw new ConfigurationError(
        `picklists: ${key} default ${JSON.stringify(defaultValue)} is not one of its values`,
      );
    }
    field.picklist = {
      values: [...definition.values],
      defaultValue,
      restricted: definition.restricted ?? field.picklist.restricted,
    };
  }
}

// ---------------------------------------------------------------------------- field builders

type FieldSpec = Partial<Omit<FieldDefinition, "name" | "type">> & { name: string; type: FieldType };

function field(spec: FieldSpec): FieldDefinition {
  const type = spec.type;
  const textual = ["string", "textarea", "email", "phone", "url", "picklist", "combobox"].includes(type);
  return {
    label: spec.label ?? labelFor(spec.name),
    length: spec.length ?? (type === "id" || type === "reference" ? 18 : textual ? 255 : 0),
    nillable: spec.nillable ?? true,
    createable: spec.createable ?? true,
    updateable: spec.updateable ?? spec.createable ?? true,
    defaultedOnCreate: spec.defaultedOnCreate ?? false,
    externalId: spec.externalId ?? false,
    unique: spec.unique ?? false,
    custom: spec.custom ?? false,
    idLookup: spec.idLookup ?? (type === "id" || spec.externalId === true),
    nameField: spec.nameField ?? false,
    calculated: spec.calculated ?? false,
    filterable: spec.filterable ?? !(type === "textarea" && (spec.length ?? 255) > 255),
    sortable: spec.sortable ?? !(type === "textarea" && (spec.length ?? 255) > 255),
    referenceTo: spec.referenceTo ?? [],
    relationshipName: spec.relationshipName ?? null,
    picklist: spec.picklist ?? null,
    precision: spec.precision ?? (type === "double" || type === "currency" ? 18 : 0),
    scale: spec.scale ?? (type === "currency" ? 2 : 0),
    nameSearch: spec.nameSearch ?? false,
    ...spec,
  } as FieldDefinition;
}

function labelFor(name: string): string {
  const base = name.endsWith("__c")
    ? name.slice(0, -3)
    : name.endsWith("Id") && name.length > 2
      ? `${name.slice(0, -2)} ID`
      : name;
  return base
    .replace(/_/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .trim();
}

function picklist(
  values: string[],
  options: { defaultValue?: string; restricted?: boolean } = {},
): PicklistSettings {
  return { values, defaultValue: options.defaultValue ?? null, restricted: options.restricted ?? false };
}

function systemFields(options: { owner: boolean }): FieldDefinition[] {
  const readOnly = { createable: false, updateable: false } as const;
  const fields = [
    field({
      name: "Id",
      type: "id",
      label: "Record ID",
      nillable: false,
      ...readOnly,
      defaultedOnCreate: true,
    }),
    field({
      name: "IsDeleted",
      type: "boolean",
      label: "Deleted",
      nillable: false,
      ...readOnly,
      defaultedOnCreate: true,
    }),
    field({ name: "CreatedDate", type: "datetime", nillable: false, ...readOnly, defaultedOnCreate: true }),
    field({
      name: "CreatedById",
      type: "reference",
      label: "Created By ID",
      nillable: false,
      ...readOnly,
      defaultedOnCreate: true,
      referenceTo: ["User"],
      relationshipName: "CreatedBy",
    }),
    field({
      name: "LastModifiedDate",
      type: "datetime",
      nillable: false,
      ...readOnly,
      defaultedOnCreate: true,
    }),
    field({
      name: "LastModifiedById",
      type: "reference",
      label: "Last Modified By ID",
      nillable: false,
      ...readOnly,
      defaultedOnCreate: true,
      referenceTo: ["User"],
      relationshipName: "LastModifiedBy",
    }),
    field({
      name: "SystemModstamp",
      type: "datetime",
      nillable: false,
      ...readOnly,
      defaultedOnCreate: true,
    }),
  ];
  if (options.owner) {
    fields.push(
      field({
        name: "OwnerId",
        type: "reference",
        label: "Owner ID",
        nillable: false,
        defaultedOnCreate: true,
        referenceTo: ["User"],
        relationshipName: "Owner",
      }),
    );
  }
  return fields;
}

const INDUSTRIES = [
  "Agriculture",
  "Banking",
  "Communications",
  "Consulting",
  "Education",
  "Finance",
  "Healthcare",
  "Hospitality",
  "Manufacturing",
  "Media",
  "Retail",
  "Technology",
  "Other",
];
const LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"];
const SALUTATIONS = ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."];

interface ObjectSpec {
  name: SalesforceStandardObject;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  createable: boolean;
  fields: FieldDefinition[];
}

function personNameFields(): FieldDefinition[] {
  return [
    field({ name: "Salutation", type: "picklist", picklist: picklist(SALUTATIONS) }),
    field({ name: "FirstName", type: "string", length: 40, nameSearch: true }),
    field({ name: "LastName", type: "string", length: 80, nillable: false, nameSearch: true }),
    field({
      name: "Name",
      type: "string",
      label: "Full Name",
      length: 121,
      createable: false,
      updateable: false,
      calculated: true,
      nameField: true,
      nameSearch: true,
    }),
  ];
}

function standardObjects(): ObjectSpec[] {
  return [
    {
      name: "Account",
      label: "Account",
      labelPlural: "Accounts",
      keyPrefix: "001",
      createable: true,
      fields: [
        ...systemFields({ owner: true }),
        field({
          name: "Name",
          type: "string",
          label: "Account Name",
          nillable: false,
          nameField: true,
          nameSearch: true,
        }),
        field({
          name: "Type",
          type: "picklist",
          label: "Account Type",
          picklist: picklist(["Prospect", "Customer", "Partner", "Other"]),
        }),
        field({ name: "ParentId", type: "reference", referenceTo: ["Account"], relationshipName: "Parent" }),
        field({ name: "Phone", type: "phone", label: "Account Phone", length: 40 }),
        field({ name: "Website", type: "url", nameSearch: true }),
        field({ name: "Industry", type: "picklist", picklist: picklist(INDUSTRIES) }),
        field({ name: "NumberOfEmployees", type: "int", label: "Employees", precision: 8 }),
        field({ name: "AnnualRevenue", type: "currency" }),
        field({ name: "BillingStreet", type: "textarea" }),
        field({ name: "BillingCity", type: "string", length: 40 }),
        field({ name: "BillingState", type: "string", length: 80 }),
        field({ name: "BillingPostalCode", type: "string", length: 20 }),
        field({ name: "BillingCountry", type: "string", length: 80 }),
        field({ name: "Description", type: "textarea", length: 32_000 }),
      ],
    },
    {
      name: "Contact",
      label: "Contact",
      labelPlural: "Contacts",
      keyPrefix: "003",
      createable: true,
      fields: [
        ...systemFields({ owner: true }),
        field({
          name: "AccountId",
          type: "reference",
          referenceTo: ["Account"],
          relationshipName: "Account",
        }),
        ...personNameFields(),
        field({ name: "Title", type: "string", length: 128 }),
        field({ name: "Department", type: "string", length: 80 }),
        field({ name: "Email", type: "email", length: 80 }),
        field({ name: "Phone", type: "phone", label: "Business Phone", length: 40 }),
        field({ name: "MobilePhone", type: "phone", label: "Mobile Phone", length: 40 }),
        field({ name: "HomePhone", type: "phone", label: "Home Phone", length: 40 }),
        field({ name: "OtherPhone", type: "phone", label: "Other Phone", length: 40 }),
        field({ name: "AssistantName", type: "string", label: "Assistant's Name", length: 40 }),
        field({ name: "AssistantPhone", type: "phone", label: "Asst. Phone", length: 40 }),
        field({ name: "MailingStreet", type: "textarea" }),
        field({ name: "MailingCity", type: "string", length: 40 }),
        field({ name: "MailingState", type: "string", length: 80 }),
        field({ name: "MailingPostalCode", type: "string", length: 20 }),
        field({ name: "MailingCountry", type: "string", length: 80 }),
        field({ name: "LeadSource", type: "picklist", picklist: picklist(LEAD_SOURCES) }),
        field({ name: "Birthdate", type: "date" }),
        field({ name: "Description", type: "textarea", length: 32_000 }),
        field({
          name: "HasOptedOutOfEmail",
          type: "boolean",
          label: "Email Opt Out",
          nillable: false,
          defaultedOnCreate: true,
        }),
        field({ name: "DoNotCall", type: "boolean", nillable: false, defaultedOnCreate: true }),
        field({ name: "LastActivityDate", type: "date", createable: false, updateable: false }),
      ],
    },
    {
      name: "Lead",
      label: "Lead",
      labelPlural: "Leads",
      keyPrefix: "00Q",
      createable: true,
      fields: [
        ...systemFields({ owner: true }),
        ...personNameFields(),
        field({ name: "Title", type: "string", length: 128 }),
        field({ name: "Company", type: "string", nillable: false, nameSearch: true }),
        field({ name: "Email", type: "email", length: 80 }),
        field({ name: "Phone", type: "phone", length: 40 }),
        field({ name: "MobilePhone", type: "phone", label: "Mobile Phone", length: 40 }),
        field({ name: "Street", type: "textarea" }),
        field({ name: "City", type: "string", length: 40 }),
        field({ name: "State", type: "string", length: 80 }),
        field({ name: "PostalCode", type: "string", length: 20 }),
        field({ name: "Country", type: "string", length: 80 }),
        field({ name: "Website", type: "url" }),
        field({ name: "Description", type: "textarea", length: 32_000 }),
        field({ name: "LeadSource", type: "picklist", picklist: picklist(LEAD_SOURCES) }),
        field({
          name: "Status",
          type: "picklist",
          nillable: false,
          defaultedOnCreate: true,
          picklist: picklist(
            ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"],
            {
              defaultValue: "Open - Not Contacted",
              restricted: true,
            },
          ),
        }),
        field({ name: "Industry", type: "picklist", picklist: picklist(INDUSTRIES) }),
        field({ name: "Rating", type: "picklist", picklist: picklist(["Hot", "Warm", "Cold"]) }),
        field({
          name: "HasOptedOutOfEmail",
          type: "boolean",
          label: "Email Opt Out",
          nillable: false,
          defaultedOnCreate: true,
        }),
        field({ name: "DoNotCall", type: "boolean", nillable: false, defaultedOnCreate: true }),
        field({
          name: "IsConverted",
          type: "boolean",
          label: "Converted",
          nillable: false,
          createable: false,
          updateable: false,
          defaultedOnCreate: true,
        }),
        // Set by lead conversion (`simulator.users.convertLead`), read-only through the API.
        field({
          name: "ConvertedContactId",
          type: "reference",
          label: "Converted Contact ID",
          createable: false,
          updateable: false,
          referenceTo: ["Contact"],
          relationshipName: "ConvertedContact",
        }),
        field({
          name: "ConvertedAccountId",
          type: "reference",
          label: "Converted Account ID",
          createable: false,
          updateable: false,
          referenceTo: ["Account"],
          relationshipName: "ConvertedAccount",
        }),
        field({ name: "ConvertedDate", type: "date", createable: false, updateable: false }),
      ],
    },
    {
      name: "Task",
      label: "Task",
      labelPlural: "Tasks",
      keyPrefix: "00T",
      createable: true,
      fields: [
        ...systemFields({ owner: true }),
        field({
          name: "WhoId",
          type: "reference",
          label: "Name ID",
          referenceTo: ["Contact", "Lead"],
          relationshipName: "Who",
        }),
        field({
          name: "WhatId",
          type: "reference",
          label: "Related To ID",
          referenceTo: ["Account"],
          relationshipName: "What",
        }),
        field({
          name: "AccountId",
          type: "reference",
          createable: false,
          updateable: false,
          referenceTo: ["Account"],
          relationshipName: "Account",
        }),
        field({ name: "Subject", type: "combobox", nameSearch: true, nameField: true }),
        field({ name: "ActivityDate", type: "date", label: "Due Date Only" }),
        field({
          name: "Status",
          type: "picklist",
          nillable: false,
          defaultedOnCreate: true,
          picklist: picklist(
            ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"],
            {
              defaultValue: "Not Started",
              restricted: true,
            },
          ),
        }),
        field({
          name: "Priority",
          type: "picklist",
          nillable: false,
          defaultedOnCreate: true,
          picklist: picklist(["High", "Normal", "Low"], { defaultValue: "Normal", restricted: true }),
        }),
        field({
          name: "IsClosed",
          type: "boolean",
          label: "Closed",
          nillable: false,
          createable: false,
          updateable: false,
          defaultedOnCreate: true,
        }),
        field({ name: "Description", type: "textarea", label: "Comments", length: 32_000 }),
        field({ name: "Type", type: "picklist", picklist: picklist(["Call", "Email", "Meeting", "Other"]) }),
        field({
          name: "TaskSubtype",
          type: "picklist",
          updateable: false,
          picklist: picklist(["Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"], {
            restricted: true,
          }),
        }),
        field({
          name: "CallType",
          type: "picklist",
          picklist: picklist(["Internal", "Inbound", "Outbound"], { restricted: true }),
        }),
        field({ name: "CallDurationInSeconds", type: "int", label: "Call Duration", precision: 8 }),
        field({ name: "CallDisposition", type: "string", label: "Call Result" }),
        field({ name: "CallObject", type: "string", label: "Call Object Identifier" }),
        field({ name: "CompletedDateTime", type: "datetime", createable: false, updateable: false }),
      ],
    },
    {
      name: "User",
      label: "User",
      labelPlural: "Users",
      keyPrefix: "005",
      createable: false,
      fields: [
        ...systemFields({ owner: false }),
        field({
          name: "Username",
          type: "string",
          length: 80,
          nillable: false,
          createable: false,
          unique: true,
        }),
        field({ name: "FirstName", type: "string", length: 40, createable: false, nameSearch: true }),
        field({
          name: "LastName",
          type: "string",
          length: 80,
          nillable: false,
          createable: false,
          nameSearch: true,
        }),
        field({
          name: "Name",
          type: "string",
          label: "Full Name",
          length: 121,
          createable: false,
          updateable: false,
          calculated: true,
          nameField: true,
          nameSearch: true,
        }),
        field({ name: "Email", type: "email", length: 128, nillable: false, createable: false }),
        field({ name: "Alias", type: "string", length: 8, nillable: false, createable: false }),
        field({
          name: "IsActive",
          type: "boolean",
          label: "Active",
          nillable: false,
          createable: false,
          defaultedOnCreate: true,
        }),
      ],
    },
  ];
}

function customField(objectName: string, definition: CustomFieldDefinition): FieldDefinition {
  if (
    typeof definition.name !== "string" ||
    !/^[A-Za-z][A-Za-z0-9_]*__c$/.test(definition.name) ||
    definition.name.includes("___")
  ) {
    throw new ConfigurationError(
      `customFields.${objectName}: ${JSON.stringify(definition.name)} is not a custom field API name (Letters_Digits__c)`,
    );
  }
  const types = [
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "boolean",
    "date",
    "datetime",
    "int",
    "double",
    "currency",
    "picklist",
  ];
  if (!types.includes(definition.type)) {
    throw new ConfigurationError(
      `customFields.${objectName}.${definition.name}: unsupported type ${JSON.stringify(definition.type)}`,
    );
  }
  const textual = ["string", "email", "phone", "url"].includes(definition.type);
  if (
    (definition.externalId === true || definition.unique === true) &&
    !textual &&
    definition.type !== "int" &&
    definition.type !== "double"
  ) {
    throw new ConfigurationError(
      `customFields.${objectName}.${definition.name}: only text, email and number fields can be external ids or unique`,
    );
  }
  if (
    definition.type === "picklist" &&
    (definition.picklistValues === undefined || definition.picklistValues.length === 0)
  ) {
    throw new ConfigurationError(
      `customFields.${objectName}.${definition.name}: a picklist needs picklistValues`,
    );
  }
  const isBoolean = definition.type === "boolean";
  return field({
    name: definition.name,
    type: definition.type,
    custom: true,
    ...(definition.label === undefined ? {} : { label: definition.label }),
    length:
      definition.length ??
      (definition.type === "textarea" ? 32_768 : textual || definition.type === "picklist" ? 255 : 0),
    nillable: isBoolean ? false : definition.required !== true,
    defaultedOnCreate: isBoolean,
    externalId: definition.externalId ?? false,
    unique: definition.unique ?? false,
    picklist:
      definition.type === "picklist"
        ? picklist([...(definition.picklistValues ?? [])], {
            restricted: definition.restrictedPicklist ?? true,
          })
        : null,
  });
}

function finishObject(spec: ObjectSpec): ObjectDefinition {
  const byName = new Map<string, FieldDefinition>();
  const byRelationship = new Map<string, FieldDefinition>();
  for (const definition of spec.fields) {
    const key = definition.name.toLowerCase();
    if (byName.has(key)) throw new ConfigurationError(`${spec.name}.${definition.name} is defined twice`);
    byName.set(key, definition);
    if (definition.relationshipName !== null)
      byRelationship.set(definition.relationshipName.toLowerCase(), definition);
  }
  return {
    name: spec.name,
    label: spec.label,
    labelPlural: spec.labelPlural,
    keyPrefix: spec.keyPrefix,
    createable: spec.createable,
    updateable: spec.createable,
    deletable: spec.createable,
    fields: spec.fields,
    field: (name) => byName.get(name.toLowerCase()),
    relationship: (name) => byRelationship.get(name.toLowerCase()),
  };
}

/** Whether a required-on-create check applies: not nillable, createable and without a default. */
export function isRequiredOnCreate(definition: FieldDefinition): boolean {
  return (
    !definition.nillable &&
    definition.createable &&
    !definition.defaultedOnCreate &&
    definition.type !== "boolean"
  );
}

/** The describe entry of a field (the properties jsforce's `DescribeSObjectResult` types and clients read). */
export function describeField(definition: FieldDefinition): Record<string, unknown> {
  const textual = [
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "combobox",
    "id",
    "reference",
  ].includes(definition.type);
  return {
    aggregatable: definition.type !== "textarea",
    autoNumber: false,
    byteLength: textual ? definition.length * 3 : 0,
    calculated: definition.calculated,
    caseSensitive: false,
    createable: definition.createable,
    custom: definition.custom,
    defaultValue: definition.picklist?.defaultValue ?? (definition.type === "boolean" ? false : null),
    defaultedOnCreate: definition.defaultedOnCreate,
    dependentPicklist: false,
    digits: definition.type === "int" ? definition.precision : 0,
    externalId: definition.externalId,
    filterable: definition.filterable,
    groupable: definition.filterable && definition.type !== "double" && definition.type !== "currency",
    htmlFormatted: false,
    idLookup: definition.idLookup,
    label: definition.label,
    length: textual ? definition.length : 0,
    name: definition.name,
    nameField: definition.nameField,
    namePointing: definition.relationshipName === "Who" || definition.relationshipName === "What",
    nillable: definition.nillable,
    permissionable: definition.nillable && definition.createable,
    picklistValues: (definition.picklist?.values ?? []).map((value) => ({
      active: true,
      defaultValue: value === definition.picklist?.defaultValue,
      label: value,
      validFor: null,
      value,
    })),
    polymorphicForeignKey: definition.referenceTo.length > 1,
    precision: definition.type === "double" || definition.type === "currency" ? definition.precision : 0,
    referenceTo: [...definition.referenceTo],
    relationshipName: definition.relationshipName,
    restrictedPicklist: definition.picklist?.restricted ?? false,
    scale: definition.scale,
    soapType: soapType(definition.type),
    sortable: definition.sortable,
    type: definition.type,
    unique: definition.unique,
    updateable: definition.updateable,
  };
}

function soapType(type: FieldType): string {
  switch (type) {
    case "id":
    case "reference":
      return "tns:ID";
    case "boolean":
      return "xsd:boolean";
    case "date":
      return "xsd:date";
    case "datetime":
      return "xsd:dateTime";
    case "int":
      return "xsd:int";
    case "double":
    case "currency":
      return "xsd:double";
    default:
      return "xsd:string";
  }
}

/** The describe of an object (`GET /sobjects/{type}/describe`). */
export function describeObject(
  object: ObjectDefinition,
  apiVersion: string,
  schema: Schema,
): Record<string, unknown> {
  const base = `/services/data/v${apiVersion}/sobjects/${object.name}`;
  const childRelationships: Record<string, unknown>[] = [];
  for (const other of schema.all()) {
    for (const candidate of other.fields) {
      if (!candidate.referenceTo.includes(object.name) || candidate.relationshipName === null) continue;
      if (candidate.name === "CreatedById" || candidate.name === "LastModifiedById") continue;
      childRelationships.push({
        cascadeDelete: false,
        childSObject: other.name,
        deprecatedAndHidden: false,
        field: candidate.name,
        relationshipName: relationshipPlural(other, candidate),
      });
    }
  }
  return {
    ...objectSummary(object, apiVersion),
    childRelationships,
    fields: object.fields.map(describeField),
    recordTypeInfos: [],
    urls: {
      compactLayouts: `${base}/describe/compactLayouts`,
      rowTemplate: `${base}/{ID}`,
      uiDetailTemplate: `https://simulator.invalid/{ID}`,
      describe: `${base}/describe`,
      sobject: base,
    },
  };
}

function relationshipPlural(child: ObjectDefinition, reference: FieldDefinition): string | null {
  if (child.name === "Task") return "Tasks";
  if (reference.name === "OwnerId") return null;
  if (child.name === "Account" && reference.name === "ParentId") return "ChildAccounts";
  return child.labelPlural;
}

/** The entry of an object in describeGlobal and the `objectDescribe` of its basic-info resource. */
export function objectSummary(object: ObjectDefinition, apiVersion: string): Record<string, unknown> {
  const base = `/services/data/v${apiVersion}/sobjects/${object.name}`;
  return {
    activateable: false,
    createable: object.createable,
    custom: false,
    customSetting: false,
    deletable: object.deletable,
    deprecatedAndHidden: false,
    feedEnabled: object.name !== "Task",
    hasSubtypes: false,
    isSubtype: false,
    keyPrefix: object.keyPrefix,
    label: object.label,
    labelPlural: object.labelPlural,
    layoutable: true,
    mergeable: object.name !== "Task" && object.name !== "User",
    mruEnabled: true,
    name: object.name,
    queryable: true,
    replicateable: true,
    retrieveable: true,
    searchable: true,
    triggerable: true,
    undeletable: object.deletable,
    updateable: object.updateable,
    urls: {
      rowTemplate: `${base}/{ID}`,
      defaultValues: `${base}/defaultValues?recordTypeId&fields`,
      describe: `${base}/describe`,
      sobject: base,
    },
  };
}
