/**
 * Public types of the Salesforce simulator (`@linq-connect/salesforce/testing`).
 */

/** The standard objects the simulator implements. */
export type SalesforceStandardObject = "Account" | "Contact" | "Lead" | "Task" | "User";

/** A user of the simulated org (an API user, or someone working in the UI). */
export interface SalesforceSimulatorUserInput {
  /** The 18-character User id (005…). Generated when omitted. */
  id?: string;
  /** The login name, e.g. `integration@example.com`; the JWT bearer grant's `sub`. */
  username: string;
  email?: string;
  /** The full name. Default: the username's local part. */
  name?: string;
  /** PEM public key that verifies this user's JWT bearer assertions (RS256). */
  publicKeyPem?: string;
  /** The matching private key: kept for tests that sign assertions with `simulator.users`. Never used by the server. */
  privateKeyPem?: string;
}

/** A user of the simulated org as the simulator reports it. */
export interface SalesforceSimulatorUser {
  id: string;
  username: string;
  email: string;
  name: string;
  publicKeyPem: string | null;
  privateKeyPem: string | null;
}

/** The field types a custom field can have. */
export type CustomFieldType =
  | "string"
  | "textarea"
  | "email"
  | "phone"
  | "url"
  | "boolean"
  | "date"
  | "datetime"
  | "int"
  | "double"
  | "currency"
  | "picklist";

/** A custom field added to a standard object (its name must end in `__c`). */
export interface CustomFieldDefinition {
  name: string;
  type: CustomFieldType;
  label?: string;
  /** Text length. Default 255 (32 768 for textarea). */
  length?: number;
  /** An External ID field (indexed, usable for upserts and Bulk API `externalIdFieldName`). */
  externalId?: boolean;
  /** Unique values (checked case-insensitively, as Salesforce does by default). */
  unique?: boolean;
  /** Required on create (nillable false). */
  required?: boolean;
  /** For picklists. */
  picklistValues?: string[];
  /** For picklists: reject values outside `picklistValues` (default true). */
  restrictedPicklist?: boolean;
}

/** The values of a picklist, replacing the simulator's defaults. */
export interface PicklistDefinition {
  values: string[];
  /** The value used on create when none is given (only for fields that have a default). */
  defaultValue?: string;
  /** Reject values outside `values`. Default: the field's standard behaviour. */
  restricted?: boolean;
}

/** Options of {@link startSalesforceSimulator}. Every field is optional. */
export interface SalesforceSimulatorOptions {
  /** TCP port. Default 0 (ephemeral). */
  port?: number;
  /** Interface. Default `"127.0.0.1"`. */
  host?: string;
  /** The newest API version served (`/services/data/vXX.X`). Older versions down to 31.0 are accepted too. Default `"62.0"`. */
  apiVersion?: string;
  /** The connected app's consumer key. Default `"linq-simulator-client-id"`. */
  clientId?: string;
  /** The connected app's consumer secret. Default `"linq-simulator-client-secret"`. */
  clientSecret?: string;
  /**
   * The org's users. The first is the default API user (`issueAccessToken()`), the
   * second (when there is one) the default UI user of `simulator.users`. Default:
   * an integration user and a sales rep.
   */
  users?: SalesforceSimulatorUserInput[];
  /** Lifetime of access tokens. Default 7 200 s (Salesforce's default session timeout). */
  accessTokenTtlSeconds?: number;
  /** Daily API request allowance reported in `Sforce-Limit-Info` and `/limits`. Default 15 000. */
  dailyApiLimit?: number;
  /** Custom fields per object, e.g. `{ Contact: [{ name: "Linq_Id__c", type: "string", externalId: true, unique: true }] }`. */
  customFields?: Partial<Record<SalesforceStandardObject, CustomFieldDefinition[]>>;
  /**
   * Picklist values per `Object.Field`, e.g. `{ "Lead.Status": { values: ["Open", "Closed"], defaultValue: "Open" } }`
   * or simply `{ "Task.CallType": ["Inbound", "Outbound"] }`.
   */
  picklists?: Record<string, string[] | PicklistDefinition>;
  /**
   * Duplicate rules (off by default): creating or updating a record whose value of
   * one of these fields equals (case-insensitively) another record's fails with
   * `DUPLICATES_DETECTED`, unless the request sends `Sforce-Duplicate-Rule-Header: allowSave=true`.
   */
  duplicateRules?: Partial<Record<SalesforceStandardObject, string[]>>;
  /** Records per query batch before `nextRecordsUrl` (Salesforce: 2 000). Lower it to test queryMore with few records. */
  queryBatchSize?: number;
  /** How long a Bulk API 2.0 ingest job takes after `UploadComplete`: half of it `UploadComplete`, then `InProgress`, then `JobComplete`. Default 40 ms. */
  bulkProcessingDelayMs?: number;
  /** Largest accepted request body. Default 150 MB (Bulk API 2.0's upload limit). */
  maxBodyBytes?: number;
  /** The clock for timestamps, token expiry and date literals. Default `() => new Date()`. */
  now?: () => Date;
  /** Receives one line per request. Silent by default. */
  logger?: (line: string) => void;
}

/** A field value as the REST API renders it. */
export type SalesforceFieldValue = string | number | boolean | null;

/** A record as `GET /sobjects/{type}/{id}` renders it: `attributes` then every field. */
export interface SalesforceRecord {
  attributes: { type: string; url: string };
  Id: string;
  [field: string]: unknown;
}

/** One entry of an object's delete log. */
export interface SalesforceDeletedRecord {
  id: string;
  deletedDate: string;
}

/** Bulk API 2.0 ingest job states. */
export type BulkJobState = "Open" | "UploadComplete" | "InProgress" | "JobComplete" | "Failed" | "Aborted";

/** A Bulk API 2.0 ingest job as `GET /jobs/ingest/{id}` renders it. */
export interface SalesforceBulkJob {
  id: string;
  operation: "insert" | "update" | "upsert" | "delete";
  object: string;
  createdById: string;
  createdDate: string;
  systemModstamp: string;
  state: BulkJobState;
  externalIdFieldName?: string;
  concurrencyMode: "Parallel";
  contentType: "CSV";
  apiVersion: number;
  jobType: "V2Ingest";
  lineEnding: "LF" | "CRLF";
  columnDelimiter: "COMMA" | "TAB" | "PIPE" | "SEMICOLON" | "CARET" | "BACKQUOTE";
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  retries: number;
  totalProcessingTime: number;
  apiActiveProcessingTime: number;
  apexProcessingTime: number;
  errorMessage?: string;
}

/** Read-only inspection of the simulator's state. Every method returns copies. */
export interface SalesforceSimulatorState {
  /** The live records of an object, in creation order (`includeDeleted` adds the recycle bin). */
  records(sobject: string, options?: { includeDeleted?: boolean }): SalesforceRecord[];
  /** One record by 15- or 18-character id (deleted ones too, with `IsDeleted: true`), or undefined. */
  record(sobject: string, id: string): SalesforceRecord | undefined;
  /** The delete log of an object. */
  deletedRecords(sobject: string): SalesforceDeletedRecord[];
  /** API requests counted today and the daily allowance. */
  apiUsage(): { used: number; limit: number };
  /** Every Bulk API 2.0 ingest job. */
  bulkJobs(): SalesforceBulkJob[];
}

/** Acting as a person in the Salesforce UI: changes are attributed to that user (CreatedById / LastModifiedById) and advance SystemModstamp. */
export interface SalesforceSimulatorUsers {
  list(): SalesforceSimulatorUser[];
  /** Creates a record as `as` (a user id or username; default the UI user). Validated like the API; throws {@link SalesforceRecordError}. */
  create(sobject: string, fields: Record<string, unknown>, options?: { as?: string }): SalesforceRecord;
  update(
    sobject: string,
    id: string,
    fields: Record<string, unknown>,
    options?: { as?: string },
  ): SalesforceRecord;
  /** Moves the record to the recycle bin (and into the delete log). */
  delete(sobject: string, id: string, options?: { as?: string }): void;
  /**
   * Converts a Lead as the "Convert" button does (no Opportunity): into a new Account named after
   * Lead.Company (or `accountId`, or `contactId`'s Account) and a new Contact with the Lead's name,
   * email, phones, title and address (or `contactId`, whose blank fields the Lead fills). The Lead gets
   * IsConverted, ConvertedContactId, ConvertedAccountId, ConvertedDate and Status "Closed - Converted"
   * and is read-only from then on (`CANNOT_UPDATE_CONVERTED_LEAD`, also for a Task naming it); its
   * Tasks move to the Contact. Throws {@link SalesforceRecordError}.
   */
  convertLead(leadId: string, options?: SalesforceLeadConversionOptions): SalesforceLeadConversion;
}

/** Options of {@link SalesforceSimulatorUsers.convertLead}. */
export interface SalesforceLeadConversionOptions {
  /** The user converting (id or username; default the UI user). */
  as?: string;
  /** Merge into this existing Contact instead of creating one. */
  contactId?: string;
  /** Use this existing Account instead of creating one. */
  accountId?: string;
}

/** What a lead conversion made (Salesforce's LeadConvertResult without the Opportunity). */
export interface SalesforceLeadConversion {
  leadId: string;
  contactId: string;
  accountId: string;
}

/** The kinds of faults {@link SalesforceFaultRule} can inject. */
export type SalesforceFaultKind =
  | "server-error"
  | "service-unavailable"
  | "rate-limit"
  | "request-limit"
  | "session-expired"
  | "latency"
  | "timeout"
  | "drop-connection"
  | "drop-after-processing";

/**
 * A fault for matching requests, applied before authentication:
 * - `server-error`: 500 `UNKNOWN_EXCEPTION`
 * - `service-unavailable`: 503 `SERVER_UNAVAILABLE` with `Retry-After: retryAfterSeconds`
 * - `rate-limit`: 429 with `Retry-After: retryAfterSeconds` (a proxy in front of Salesforce)
 * - `request-limit`: 403 `REQUEST_LIMIT_EXCEEDED`
 * - `session-expired`: 401 `INVALID_SESSION_ID` (the token itself stays valid: a client that refreshes and retries succeeds)
 * - `latency`: waits `latencyMs` (default 500) then answers normally
 * - `timeout`: never answers
 * - `drop-connection`: destroys the socket before processing
 * - `drop-after-processing`: processes the request (state changes) then destroys the socket
 */
export interface SalesforceFaultRule {
  /** Which requests; omitted fields match everything. `path` is compared with the path without query. */
  match?: { method?: string; path?: string | RegExp };
  kind: SalesforceFaultKind;
  /** How many matching requests it affects. Default Infinity. */
  times?: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
}

export interface SalesforceFaultHandle {
  readonly hits: number;
  remove(): void;
}

export interface SalesforceSimulatorFaults {
  inject(fault: SalesforceFaultRule): SalesforceFaultHandle;
  clear(): void;
}

/** One request the simulator received. */
export interface SalesforceRecordedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** The status answered (or that would have been, for `drop-after-processing`); null when dropped before processing or pending. */
  status: number | null;
  /** The user the access token belongs to, when authenticated. */
  userId: string | null;
  /** Whether the request counted against the daily API allowance. */
  countedAsApiRequest: boolean;
  at: string;
  fault: SalesforceFaultKind | null;
  /** The parsed JSON body, the form fields of a token request (secrets masked), the CSV text, or null. */
  body: unknown;
}

/** A running Salesforce simulator (see {@link startSalesforceSimulator}). */
export interface SalesforceSimulator {
  /** `http://127.0.0.1:PORT`: the instance URL (REST paths start with `/services/data/vXX.X`). */
  readonly instanceUrl: string;
  /** The same server: `/services/oauth2/token` (use as jsforce's `loginUrl`). */
  readonly loginUrl: string;
  /** The newest API version served, e.g. `"62.0"`. */
  readonly apiVersion: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The org id (00D…). */
  readonly organizationId: string;
  /** A valid access token for a user (id or username; default the first user). */
  issueAccessToken(user?: string): string;
  /** A refresh token for a user (id or username; default the first user). */
  issueRefreshToken(user?: string): string;
  /** Expires every access token issued so far (refresh tokens stay valid): the next API call answers 401 INVALID_SESSION_ID. */
  expireAllTokens(): void;
  /** Revokes every refresh token (and its access tokens): the next refresh answers `invalid_grant`. */
  revokeAllTokens(): void;
  readonly state: SalesforceSimulatorState;
  /** Every request received, in arrival order (cleared by `reset()`). */
  readonly requests: SalesforceRecordedRequest[];
  readonly users: SalesforceSimulatorUsers;
  readonly faults: SalesforceSimulatorFaults;
  /**
   * Clears records, the delete log, Bulk jobs, query cursors, API usage, faults and
   * recorded requests; keeps users, options and issued tokens. Ids start again.
   */
  reset(): void;
  close(): Promise<void>;
}
