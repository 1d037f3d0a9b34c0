/**
 * Which Linq contact field goes to which Salesforce Contact or Lead field.
 * LastName is required by both objects, so one is always derived.
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

export type SalesforceObjectName = "Contact" | "Lead";

export type SalesforceFieldMapping = Readonly<Record<LinqContactField, string | null>>;

export const defaultSalesforceFieldMappings: Readonly<Record<SalesforceObjectName, SalesforceFieldMapping>> =
  {
    // Contact.company is an Account lookup, resolved separately (never a plain field).
    Contact: {
      first_name: "FirstName",
      last_name: "LastName",
      email: "Email",
      phone_number: "MobilePhone",
      company: null,
      title: "Title",
      location: "MailingCity",
    },
    Lead: {
      first_name: "FirstName",
      last_name: "LastName",
      email: "Email",
      phone_number: "MobilePhone",
      company: "Company",
      title: "Title",
      location: "City",
    },
  };

export interface SalesforceRecordOptions {
  mapping?: SalesforceFieldMapping;
  /** Lead.Company is required: used when the Linq contact has no company. */
  companyPlaceholder?: string;
}

/**
 * The fields of a Salesforce Contact or Lead for a Linq contact. LastName falls back to the first name,
 * then the email's local part, then the phone number, so that the required field is never empty.
 */
export function linqContactToSalesforceFields(
  objectName: SalesforceObjectName,
  contact: LinqContactFields,
  options: SalesforceRecordOptions = {},
): Record<string, string> {
  const mapping = options.mapping ?? defaultSalesforceFieldMappings[objectName];
  const fields: Record<string, string> = {};
  for (const [field, target] of Object.entries(mapping) as [LinqContactField, string | null][]) {
    const value = contact[field]?.trim();
    if (target === null || value === undefined || value === "") continue;
    fields[target] = value;
  }
  if (fields.LastName === undefined) fields.LastName = deriveLastName(contact);
  if (objectName === "Lead" && fields.Company === undefined) {
    fields.Company = options.companyPlaceholder ?? "Unknown (via Linq)";
  }
  return fields;
}

function deriveLastName(contact: LinqContactFields): string {
  const candidates = [contact.first_name, contact.email?.split("@")[0], contact.phone_number];
  for (const candidate of candidates) {
    const trimmed = candidate?.trim();
    if (trimmed) return trimmed;
  }
  return "Unknown";
}
