/**
 * What the simulator knows about HubSpot's data model: the object types, their standard properties
 * (every account starts with these), the properties returned by default, the required ones, the
 * association types between the object types (HUBSPOT_DEFINED ids as published by HubSpot) and the
 * scopes each object type needs.
 */
import type {
  HubSpotAssociationType,
  HubSpotObjectType,
  HubSpotPropertyOption,
  HubSpotSimulatorProperty,
} from "./simulator-types.ts";

/** Static facts about an object type. */
export interface ObjectTypeInfo {
  name: HubSpotObjectType;
  singular: string;
  /** The object type id, e.g. `0-1`. */
  typeId: string;
  /** The upper-case name used in some error messages (`CONTACT`). */
  upperName: string;
  /** Properties GET and search return when the request names none. */
  defaultProperties: readonly string[];
  /** Properties every answer includes even when other properties were requested. */
  alwaysProperties: readonly string[];
  /** The property holding the creation time. */
  createdProperty: string;
  /** The property holding the last modification time (the one to filter and sort on). */
  modifiedProperties: readonly string[];
  /** Properties a create must set. */
  requiredProperties: readonly string[];
  /** Properties searched by the free-text `query`. */
  searchableProperties: readonly string[];
  /** The scope family (`crm.objects.<family>.read|write`). */
  scopeFamily: "contacts" | "companies";
}

export const OBJECT_TYPES: Record<HubSpotObjectType, ObjectTypeInfo> = {
  contacts: {
    name: "contacts",
    singular: "contact",
    typeId: "0-1",
    upperName: "CONTACT",
    defaultProperties: ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
    alwaysProperties: ["createdate", "hs_object_id", "lastmodifieddate"],
    createdProperty: "createdate",
    modifiedProperties: ["lastmodifieddate", "hs_lastmodifieddate"],
    requiredProperties: [],
    searchableProperties: [
      "firstname",
      "lastname",
      "email",
      "phone",
      "mobilephone",
      "company",
      "hs_additional_emails",
      "fax",
    ],
    scopeFamily: "contacts",
  },
  companies: {
    name: "companies",
    singular: "company",
    typeId: "0-2",
    upperName: "COMPANY",
    defaultProperties: ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    alwaysProperties: ["createdate", "hs_lastmodifieddate", "hs_object_id"],
    createdProperty: "createdate",
    modifiedProperties: ["hs_lastmodifieddate"],
    requiredProperties: [],
    searchableProperties: ["name", "domain", "website", "phone"],
    scopeFamily: "companies",
  },
  calls: {
    name: "calls",
    singular: "call",
    typeId: "0-48",
    upperName: "CALL",
    defaultProperties: ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    alwaysProperties: ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    createdProperty: "hs_createdate",
    modifiedProperties: ["hs_lastmodifieddate"],
    requiredProperties: ["hs_timestamp"],
    searchableProperties: ["hs_call_title", "hs_call_body"],
    scopeFamily: "contacts",
  },
  communications: {
    name: "communications",
    singular: "communication",
    typeId: "0-18",
    upperName: "COMMUNICATION",
    defaultProperties: ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    alwaysProperties: ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    createdProperty: "hs_createdate",
    modifiedProperties: ["hs_lastmodifieddate"],
    requiredProperties: ["hs_timestamp", "hs_communication_channel_type"],
    searchableProperties: ["hs_communication_body"],
    scopeFamily: "contacts",
  },
};

export const OBJECT_TYPE_NAMES = Object.keys(OBJECT_TYPES) as HubSpotObjectType[];

/** Resolves a path segment (`contacts`, `contact`, `0-1`, any case) to an object type. */
export function resolveObjectType(segment: string): HubSpotObjectType | undefined {
  const lower = segment.toLowerCase();
  for (const info of Object.values(OBJECT_TYPES)) {
    if (info.name === lower || info.singular === lower || info.typeId === lower) return info.name;
  }
  return undefined;
}

// ------------------------------------------------------------------ properties

type PropertyType = HubSpotSimulatorProperty["type"];

interface PropertySeed {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description?: string;
  options?: readonly (readonly [value: string, label: string])[];
  readOnly?: boolean;
  calculated?: boolean;
  hasUniqueValue?: boolean;
}

const text = (name: string, label: string, groupName: string, description = ""): PropertySeed => ({
  name,
  label,
  type: "string",
  fieldType: "text",
  groupName,
  description,
});

const LIFECYCLE_STAGES = [
  ["subscriber", "Subscriber"],
  ["lead", "Lead"],
  ["marketingqualifiedlead", "Marketing Qualified Lead"],
  ["salesqualifiedlead", "Sales Qualified Lead"],
  ["opportunity", "Opportunity"],
  ["customer", "Customer"],
  ["evangelist", "Evangelist"],
  ["other", "Other"],
] as const;

const LEAD_STATUSES = [
  ["NEW", "New"],
  ["OPEN", "Open"],
  ["IN_PROGRESS", "In Progress"],
  ["OPEN_DEAL", "Open Deal"],
  ["UNQUALIFIED", "Unqualified"],
  ["ATTEMPTED_TO_CONTACT", "Attempted to Contact"],
  ["CONNECTED", "Connected"],
  ["BAD_TIMING", "Bad Timing"],
] as const;

/** The values of `hs_call_status`. */
export const CALL_STATUSES = [
  ["BUSY", "Busy"],
  ["CALLING_CRM_USER", "Calling CRM User"],
  ["CANCELED", "Canceled"],
  ["COMPLETED", "Completed"],
  ["CONNECTING", "Connecting"],
  ["FAILED", "Failed"],
  ["IN_PROGRESS", "In Progress"],
  ["NO_ANSWER", "No Answer"],
  ["QUEUED", "Queued"],
  ["RINGING", "Ringing"],
] as const;

/**
 * The values of `hs_communication_channel_type`. The API guide documents SMS, WHATS_APP and
 * LINKEDIN_MESSAGE for logging messages; the property definition also carries the other two.
 */
export const COMMUNICATION_CHANNEL_TYPES = [
  ["SMS", "SMS"],
  ["WHATS_APP", "WhatsApp"],
  ["LINKEDIN_MESSAGE", "LinkedIn"],
  ["PHYSICAL_MAIL", "Physical mail"],
  ["CUSTOM_CHANNEL_CONVERSATION", "Custom channel conversation"],
] as const;

const OWNER: (groupName: string) => PropertySeed = (groupName) => ({
  name: "hubspot_owner_id",
  label: "Owner",
  type: "enumeration",
  fieldType: "select",
  groupName,
  description: "The owner of the record. Options are the account's owners.",
});

const CONTACT_PROPERTIES: PropertySeed[] = [
  text("firstname", "First Name", "contactinformation", "A contact's first name"),
  text("lastname", "Last Name", "contactinformation", "A contact's last name"),
  {
    ...text("email", "Email", "contactinformation", "A contact's email address"),
    hasUniqueValue: false,
  },
  {
    ...text("phone", "Phone Number", "contactinformation", "A contact's primary phone number"),
    fieldType: "phonenumber",
  },
  {
    ...text("mobilephone", "Mobile Phone Number", "contactinformation", "A contact's mobile phone number"),
    fieldType: "phonenumber",
  },
  text("company", "Company Name", "contactinformation", "Name of the contact's company"),
  text("jobtitle", "Job Title", "contactinformation", "A contact's job title"),
  text("city", "City", "contactinformation", "A contact's city of residence"),
  text("state", "State/Region", "contactinformation", "The contact's state of residence"),
  text("zip", "Postal Code", "contactinformation", "The contact's zip code"),
  text("country", "Country/Region", "contactinformation", "The contact's country/region of residence"),
  text("address", "Street Address", "contactinformation", "Contact's street address"),
  text("website", "Website URL", "contactinformation", "Associated company website"),
  { ...text("message", "Message", "contactinformation"), fieldType: "textarea" },
  OWNER("sales_properties"),
  {
    name: "lifecyclestage",
    label: "Lifecycle Stage",
    type: "enumeration",
    fieldType: "radio",
    groupName: "contactinformation",
    description: "The qualification of contacts to sales readiness.",
    options: LIFECYCLE_STAGES,
  },
  {
    name: "hs_lead_status",
    label: "Lead Status",
    type: "enumeration",
    fieldType: "radio",
    groupName: "sales_properties",
    options: LEAD_STATUSES,
  },
  {
    name: "createdate",
    label: "Create Date",
    type: "datetime",
    fieldType: "date",
    groupName: "contactinformation",
  },
  {
    name: "lastmodifieddate",
    label: "Last Modified Date",
    type: "datetime",
    fieldType: "date",
    groupName: "contactinformation",
    readOnly: true,
    calculated: false,
  },
  {
    name: "hs_lastmodifieddate",
    label: "Object last modified date/time",
    type: "datetime",
    fieldType: "date",
    groupName: "contactinformation",
    readOnly: true,
  },
  {
    name: "hs_object_id",
    label: "Record ID",
    type: "number",
    fieldType: "number",
    groupName: "contactinformation",
    readOnly: true,
  },
  {
    ...text("hs_email_domain", "Email Domain", "emailinformation"),
    readOnly: true,
    calculated: true,
  },
  { ...text("hs_additional_emails", "Additional email addresses", "contactinformation"), readOnly: true },
  { ...text("fax", "Fax Number", "contactinformation"), fieldType: "phonenumber" },
];

const COMPANY_PROPERTIES: PropertySeed[] = [
  text("name", "Company name", "companyinformation", "The name of the company or organization"),
  text("domain", "Company Domain Name", "companyinformation", "The domain name of the company"),
  { ...text("phone", "Phone Number", "companyinformation"), fieldType: "phonenumber" },
  text("city", "City", "companyinformation"),
  text("country", "Country/Region", "companyinformation"),
  text("website", "Website URL", "companyinformation"),
  { ...text("description", "Description", "companyinformation"), fieldType: "textarea" },
  OWNER("companyinformation"),
  {
    name: "createdate",
    label: "Create Date",
    type: "datetime",
    fieldType: "date",
    groupName: "companyinformation",
  },
  {
    name: "hs_lastmodifieddate",
    label: "Last Modified Date",
    type: "datetime",
    fieldType: "date",
    groupName: "companyinformation",
    readOnly: true,
  },
  {
    name: "hs_object_id",
    label: "Record ID",
    type: "number",
    fieldType: "number",
    groupName: "companyinformation",
    readOnly: true,
  },
];

const ENGAGEMENT_SYSTEM = (groupName: string): PropertySeed[] => [
  {
    name: "hs_timestamp",
    label: "Activity date",
    type: "datetime",
    fieldType: "date",
    groupName,
    description: "The time the activity happened; it orders the record timeline.",
  },
  OWNER(groupName),
  {
    name: "hs_createdate",
    label: "Create date",
    type: "datetime",
    fieldType: "date",
    groupName,
    readOnly: true,
  },
  {
    name: "hs_lastmodifieddate",
    label: "Last modified date",
    type: "datetime",
    fieldType: "date",
    groupName,
    readOnly: true,
  },
  {
    name: "hs_object_id",
    label: "Record ID",
    type: "number",
    fieldType: "number",
    groupName,
    readOnly: true,
  },
];

const CALL_PROPERTIES: PropertySeed[] = [
  ...ENGAGEMENT_SYSTEM("callinformation"),
  { ...text("hs_call_body", "Call notes", "callinformation"), fieldType: "html" },
  text("hs_call_title", "Call Title", "callinformation"),
  {
    name: "hs_call_direction",
    label: "Call direction",
    type: "enumeration",
    fieldType: "select",
    groupName: "callinformation",
    options: [
      ["INBOUND", "Inbound"],
      ["OUTBOUND", "Outbound"],
    ],
  },
  {
    name: "hs_call_duration",
    label: "Call duration",
    type: "number",
    fieldType: "number",
    groupName: "callinformation",
    description: "The duration of the call in milliseconds.",
  },
  text("hs_call_from_number", "From number", "callinformation"),
  text("hs_call_to_number", "To number", "callinformation"),
  {
    name: "hs_call_status",
    label: "Call status",
    type: "enumeration",
    fieldType: "select",
    groupName: "callinformation",
    options: CALL_STATUSES,
  },
  text("hs_call_recording_url", "Recording URL", "callinformation"),
  text("hs_call_disposition", "Call outcome", "callinformation"),
  text("hs_call_callee_object_id", "Callee object id", "callinformation"),
  text("hs_call_callee_object_type", "Callee object type", "callinformation"),
  text("hs_activity_type", "Call and meeting type", "callinformation"),
  text("hs_attachment_ids", "Attached file IDs", "callinformation"),
];

const COMMUNICATION_PROPERTIES: PropertySeed[] = [
  ...ENGAGEMENT_SYSTEM("communicationinformation"),
  {
    name: "hs_communication_channel_type",
    label: "Channel type",
    type: "enumeration",
    fieldType: "select",
    groupName: "communicationinformation",
    options: COMMUNICATION_CHANNEL_TYPES,
  },
  {
    name: "hs_communication_logged_from",
    label: "Logged from",
    type: "enumeration",
    fieldType: "select",
    groupName: "communicationinformation",
    description: "Must be CRM for messages logged through the API.",
    options: [["CRM", "CRM"]],
  },
  { ...text("hs_communication_body", "Body", "communicationinformation"), fieldType: "textarea" },
];

const PROPERTY_SEEDS: Record<HubSpotObjectType, PropertySeed[]> = {
  contacts: CONTACT_PROPERTIES,
  companies: COMPANY_PROPERTIES,
  calls: CALL_PROPERTIES,
  communications: COMMUNICATION_PROPERTIES,
};

/** The property groups of each object type (custom properties must use one of them). */
export const PROPERTY_GROUPS: Record<HubSpotObjectType, readonly string[]> = {
  contacts: ["contactinformation", "sales_properties", "emailinformation", "conversioninformation"],
  companies: ["companyinformation", "sales_properties"],
  calls: ["callinformation"],
  communications: ["communicationinformation"],
};

function toOptions(options: PropertySeed["options"]): HubSpotPropertyOption[] {
  return (options ?? []).map(([value, label], displayOrder) => ({
    label,
    value,
    displayOrder,
    hidden: false,
  }));
}

/** The standard property definitions of an object type, as a fresh account has them. */
export function standardProperties(
  objectType: HubSpotObjectType,
  createdAt: string,
): HubSpotSimulatorProperty[] {
  return PROPERTY_SEEDS[objectType].map((seed, index) => ({
    name: seed.name,
    label: seed.label,
    type: seed.type,
    fieldType: seed.fieldType,
    description: seed.description ?? "",
    groupName: seed.groupName,
    options: toOptions(seed.options),
    displayOrder: index === 0 ? 0 : -1,
    calculated: seed.calculated ?? false,
    externalOptions: seed.name === "hubspot_owner_id",
    hasUniqueValue: seed.hasUniqueValue ?? false,
    hidden: false,
    hubspotDefined: true,
    modificationMetadata: {
      archivable: false,
      readOnlyDefinition: true,
      readOnlyValue: seed.readOnly ?? false,
    },
    formField: !(seed.readOnly ?? false),
    createdAt,
    updatedAt: createdAt,
    archived: false,
  }));
}

// ------------------------------------------------------------------ associations

/** One HUBSPOT_DEFINED association type: direction, id, label, name and its inverse. */
export interface AssociationDefinition {
  from: HubSpotObjectType;
  to: HubSpotObjectType;
  typeId: number;
  inverseTypeId: number;
  label: string | null;
  /** The v3 name (`contact_to_company_unlabeled`) shown in `?associations=` answers. */
  name: string;
  /** Whether this is the type `PUT …/associations/default/…` creates. */
  isDefault: boolean;
}

function pair(
  from: HubSpotObjectType,
  to: HubSpotObjectType,
  typeId: number,
  inverseTypeId: number,
  options: { label?: string | null; name: string; inverseName: string; isDefault: boolean },
): AssociationDefinition[] {
  return [
    {
      from,
      to,
      typeId,
      inverseTypeId,
      label: options.label ?? null,
      name: options.name,
      isDefault: options.isDefault,
    },
    {
      from: to,
      to: from,
      typeId: inverseTypeId,
      inverseTypeId: typeId,
      label: options.label ?? null,
      name: options.inverseName,
      isDefault: options.isDefault,
    },
  ];
}

/** The HUBSPOT_DEFINED association types between the implemented object types. */
export const ASSOCIATION_DEFINITIONS: readonly AssociationDefinition[] = [
  ...pair("contacts", "companies", 279, 280, {
    name: "contact_to_company_unlabeled",
    inverseName: "company_to_contact_unlabeled",
    isDefault: true,
  }),
  ...pair("contacts", "companies", 1, 2, {
    label: "Primary",
    name: "contact_to_company",
    inverseName: "company_to_contact",
    isDefault: false,
  }),
  ...pair("contacts", "calls", 193, 194, {
    name: "contact_to_call",
    inverseName: "call_to_contact",
    isDefault: true,
  }),
  ...pair("contacts", "communications", 82, 81, {
    name: "contact_to_communication",
    inverseName: "communication_to_contact",
    isDefault: true,
  }),
  ...pair("companies", "calls", 181, 182, {
    name: "company_to_call",
    inverseName: "call_to_company",
    isDefault: true,
  }),
  ...pair("companies", "communications", 88, 87, {
    name: "company_to_communication",
    inverseName: "communication_to_company",
    isDefault: true,
  }),
];

/** The association types from one object type to another. */
export function associationTypesBetween(
  from: HubSpotObjectType,
  to: HubSpotObjectType,
): AssociationDefinition[] {
  return ASSOCIATION_DEFINITIONS.filter((definition) => definition.from === from && definition.to === to);
}

/** The definition of a HUBSPOT_DEFINED type id, if it exists. */
export function associationDefinition(typeId: number): AssociationDefinition | undefined {
  return ASSOCIATION_DEFINITIONS.find((definition) => definition.typeId === typeId);
}

/** The type `default` associations use between two object types. */
export function defaultAssociation(
  from: HubSpotObjectType,
  to: HubSpotObjectType,
): AssociationDefinition | undefined {
  return associationTypesBetween(from, to).find((definition) => definition.isDefault);
}

export function renderAssociationType(definition: AssociationDefinition): HubSpotAssociationType {
  return { category: "HUBSPOT_DEFINED", typeId: definition.typeId, label: definition.label };
}

// ------------------------------------------------------------------ scopes

/** Every scope the implemented endpoints use (the default grant). */
export const ALL_SCOPES: readonly string[] = [
  "crm.objects.contacts.read",
  "crm.objects.contacts.write",
  "crm.objects.companies.read",
  "crm.objects.companies.write",
  "crm.schemas.contacts.read",
  "crm.schemas.contacts.write",
  "crm.schemas.companies.read",
  "crm.schemas.companies.write",
  "crm.objects.owners.read",
];

/** The scopes of which one is needed to read or write records of an object type. */
export function objectScopes(objectType: HubSpotObjectType, access: "read" | "write"): string[] {
  const family = OBJECT_TYPES[objectType].scopeFamily;
  return [
    `crm.objects.${family}.${access}`,
    `crm.objects.${family}.sensitive.${access}.v2`,
    `crm.objects.${family}.highly_sensitive.${access}.v2`,
  ];
}

/** The scopes of which one is needed to read or change property definitions. */
export function schemaScopes(objectType: HubSpotObjectType, access: "read" | "write"): string[] {
  const family = OBJECT_TYPES[objectType].scopeFamily;
  return access === "read"
    ? [`crm.schemas.${family}.read`, `crm.objects.${family}.read`]
    : [`crm.schemas.${family}.write`];
}
