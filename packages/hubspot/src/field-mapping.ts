/**
 * Which Linq contact field goes to which HubSpot contact property.
 * Routes may override any entry; `null` switches a field off.
 */
export type LinqContactField =
  | "first_name"
  | "last_name"
  | "email"
  | "phone_number"
  | "company"
  | "title"
  | "location";

/** Every Linq contact field the connector syncs, in a stable order. */
export const linqContactFields: readonly LinqContactField[] = [
  "first_name",
  "last_name",
  "email",
  "phone_number",
  "company",
  "title",
  "location",
];

/** How each field's values compare across the two systems (phone numbers by E.164, emails case-insensitively). */
export const linqContactFieldKinds: Readonly<Partial<Record<LinqContactField, "email" | "phone">>> = {
  email: "email",
  phone_number: "phone",
};

export type LinqContactFields = Partial<Record<LinqContactField, string | null>>;

export type HubSpotFieldMapping = Readonly<Record<LinqContactField, string | null>>;

export const defaultHubSpotFieldMapping: HubSpotFieldMapping = {
  first_name: "firstname",
  last_name: "lastname",
  email: "email",
  phone_number: "phone",
  company: "company",
  title: "jobtitle",
  location: "city",
};

export function resolveHubSpotFieldMapping(
  overrides: Partial<Record<LinqContactField, string | null>> = {},
): HubSpotFieldMapping {
  return { ...defaultHubSpotFieldMapping, ...overrides };
}

/** HubSpot properties for a Linq contact: only fields that have a value and a target property. */
export function linqContactToHubSpotProperties(
  contact: LinqContactFields,
  mapping: HubSpotFieldMapping = defaultHubSpotFieldMapping,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [field, property] of Object.entries(mapping) as [LinqContactField, string | null][]) {
    const value = contact[field];
    if (property === null || value === undefined || value === null) continue;
    const trimmed = value.trim();
    if (trimmed !== "") properties[property] = trimmed;
  }
  return properties;
}

/** The HubSpot properties a mapping reads and writes (switched-off fields left out). */
export function mappedHubSpotProperties(mapping: HubSpotFieldMapping = defaultHubSpotFieldMapping): string[] {
  return [...new Set(Object.values(mapping).filter((property): property is string => property !== null))];
}

/** The Linq contact fields for a HubSpot contact's properties (the reverse direction). */
export function hubSpotPropertiesToLinqContact(
  properties: Readonly<Record<string, string | null | undefined>>,
  mapping: HubSpotFieldMapping = defaultHubSpotFieldMapping,
): LinqContactFields {
  const contact: LinqContactFields = {};
  for (const [field, property] of Object.entries(mapping) as [LinqContactField, string | null][]) {
    if (property === null) continue;
    const value = properties[property];
    if (typeof value === "string" && value.trim() !== "") contact[field] = value.trim();
  }
  return contact;
}
