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
