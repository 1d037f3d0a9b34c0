/**
 * `linq-sync doctor` for Salesforce: the credentials sign in, the org has API calls left, and the org
 * has what the routes write: the mapped Contact / Lead fields (existing and updateable), the external
 * id field (an External ID), and the Task fields and picklist values the connector logs activities with.
 *
 * Everything here reads (`GET /limits`, `describe`, one SOQL query for a configured owner); nothing is
 * written. No result carries a token, a secret or a key.
 */
import type { ConnectorContext, HealthCheckResult } from "@linq-connect/core";
import { AuthenticationError, isLinqConnectError } from "@linq-connect/core";
import type { ConnectorServices } from "./connector-services.ts";
import type { SalesforceObjectName } from "./field-mapping.ts";
import { escapeSoql, type SalesforceDescribe } from "./salesforce-api.ts";
import { SalesforceRequestLimitError } from "./salesforce-errors.ts";
import { type ParsedConnectorOptions, type SalesforceRouteSettings, syncedFields } from "./settings.ts";

type Authentication = ParsedConnectorOptions["authentication"];
type DescribedField = SalesforceDescribe["fields"][number];

/** The Task fields the connector sets when it logs a message or a call. */
const TASK_FIELDS = [
  "WhoId",
  "Subject",
  "Description",
  "ActivityDate",
  "Status",
  "Priority",
  "TaskSubtype",
  "CallType",
  "CallDurationInSeconds",
  "CallObject",
] as const;

/** The picklist values the connector writes to Task. */
const TASK_PICKLIST_VALUES: Readonly<Record<string, readonly string[]>> = {
  Status: ["Completed"],
  Priority: ["Normal"],
  TaskSubtype: ["Task", "Call"],
  CallType: ["Inbound", "Outbound"],
};

const DEFAULT_SLOW_DOWN_AT_SHARE = 0.8;

function describeError(error: unknown): string {
  return isLinqConnectError(error) || error instanceof Error ? error.message : String(error);
}

const signInFixes: Record<Authentication, string> = {
  "access-token":
    "Set a fresh SALESFORCE_ACCESS_TOKEN (and SALESFORCE_INSTANCE_URL), or better SALESFORCE_REFRESH_TOKEN with SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET so that sessions renew by themselves",
  "refresh-token":
    "Authorize the connected app again and set the new SALESFORCE_REFRESH_TOKEN; check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET and SALESFORCE_LOGIN_URL (https://test.salesforce.com for a sandbox org)",
  jwt: "Check SALESFORCE_CLIENT_ID (the connected app's consumer key), SALESFORCE_USERNAME, that the certificate of SALESFORCE_PRIVATE_KEY is uploaded to the connected app and the user is pre-authorized, and SALESFORCE_LOGIN_URL",
  injected: "Check the credentials of the jsforce Connection given to the connector",
};

const signInMethods: Record<Authentication, string> = {
  "access-token": "an access token",
  "refresh-token": "the OAuth refresh token (sessions renew by themselves)",
  jwt: "the JWT bearer flow (sessions renew by themselves)",
  injected: "the connection given to the connector",
};

/** What a route needs of its Contact / Lead object. */
interface ObjectNeeds {
  /** Fields the connector reads or writes (mapped fields, a `contactDeleted` field). */
  fields: Set<string>;
  /** Whether it writes them (contacts two-way or linq-to-crm, or records created for unknown senders). */
  writes: boolean;
}

function objectNeeds(settings: readonly SalesforceRouteSettings[]): Map<SalesforceObjectName, ObjectNeeds> {
  const needs = new Map<SalesforceObjectName, ObjectNeeds>();
  for (const route of settings) {
    const usesRecords =
      route.contacts !== "off" || (route.activities !== "off" && route.createUnknownContacts);
    if (!usesRecords) continue;
    const entry = needs.get(route.objectType) ?? { fields: new Set<string>(), writes: false };
    for (const field of syncedFields(route)) entry.fields.add(route.fieldMapping[field] as string);
    if (typeof route.contactDeleted === "object") entry.fields.add(route.contactDeleted.setField.name);
    entry.writes ||=
      route.contacts === "two-way" ||
      route.contacts === "linq-to-crm" ||
      (route.activities !== "off" && route.createUnknownContacts);
    needs.set(route.objectType, entry);
  }
  return needs;
}

function fieldProblems(
  describe: SalesforceDescribe,
  wanted: Iterable<string>,
  access: "updateable" | "createable" | "none",
): { missing: string[]; readOnly: string[] } {
  const byName = new Map<string, DescribedField>(
    describe.fields.map((field) => [field.name.toLowerCase(), field]),
  );
  const missing: string[] = [];
  const readOnly: string[] = [];
  for (const name of wanted) {
    const field = byName.get(name.toLowerCase());
    if (field === undefined) missing.push(name);
    else if (access !== "none" && !field[access]) readOnly.push(name);
  }
  return { missing, readOnly };
}

function objectFieldsResult(
  objectName: SalesforceObjectName,
  describe: SalesforceDescribe,
  needs: ObjectNeeds,
): HealthCheckResult {
  const name = `salesforce ${objectName} fields`;
  const { missing, readOnly } = fieldProblems(describe, needs.fields, needs.writes ? "updateable" : "none");
  if (missing.length === 0 && readOnly.length === 0) {
    return {
      name,
      ok: true,
      detail: `all ${needs.fields.size} mapped fields exist${needs.writes ? " and are updateable" : ""}`,
    };
  }
  const problems = [
    ...(missing.length === 0
      ? []
      : [`mapped fields that do not exist on ${objectName}: ${missing.join(", ")}`]),
    ...(readOnly.length === 0
      ? []
      : [`mapped fields the connected user cannot update: ${readOnly.join(", ")}`]),
  ];
  return {
    name,
    ok: false,
    detail: problems.join("; "),
    fix:
      missing.length > 0
        ? `Create the fields in Salesforce (Setup → Object Manager → ${objectName} → Fields & Relationships), or change the route's salesforce.fieldMapping`
        : "Give the connected user edit access to these fields (field-level security in its profile or a permission set), or change the route's salesforce.fieldMapping",
  };
}

function externalIdResult(
  objectName: SalesforceObjectName,
  describe: SalesforceDescribe,
  fieldName: string,
): HealthCheckResult {
  const name = `salesforce ${objectName} external id`;
  const field = describe.fields.find((candidate) => candidate.name.toLowerCase() === fieldName.toLowerCase());
  const fix = `Create ${fieldName} on ${objectName} as a Text field marked "External ID" (and "Unique"), or unset the connector's externalIdField`;
  if (field === undefined) {
    return { name, ok: false, detail: `${objectName}.${fieldName} does not exist`, fix };
  }
  if (!field.externalId) {
    return {
      name,
      ok: false,
      detail: `${objectName}.${fieldName} exists but is not an External ID field`,
      fix,
    };
  }
  if (!field.createable || !field.updateable) {
    return {
      name,
      ok: false,
      detail: `the connected user cannot write ${objectName}.${fieldName}`,
      fix: "Give the connected user edit access to the field (field-level security)",
    };
  }
  return {
    name,
    ok: true,
    detail: `${objectName}.${fieldName} is an External ID field: Linq ids are upserted by it`,
  };
}

function taskResults(describe: SalesforceDescribe, ownerIdSet: boolean): HealthCheckResult[] {
  const results: HealthCheckResult[] = [];
  const wanted = [...TASK_FIELDS, ...(ownerIdSet ? ["OwnerId"] : [])];
  const { missing, readOnly } = fieldProblems(describe, wanted, "createable");
  const descriptionField = describe.fields.find((field) => field.name === "Description");
  const digestBlocked = descriptionField !== undefined && !descriptionField.updateable;
  if (!describe.createable || missing.length > 0 || readOnly.length > 0 || digestBlocked) {
    const problems = [
      ...(describe.createable ? [] : ["the connected user cannot create Tasks"]),
      ...(missing.length === 0 ? [] : [`Task fields that do not exist: ${missing.join(", ")}`]),
      ...(readOnly.length === 0 ? [] : [`Task fields the connected user cannot set: ${readOnly.join(", ")}`]),
      ...(digestBlocked ? ["Task.Description is not updateable (daily digests update it)"] : []),
    ];
    results.push({
      name: "salesforce Task fields",
      ok: false,
      detail: problems.join("; "),
      fix: "Give the connected user create and edit access to Tasks and these fields (profile or permission set), or set the route's activities to off",
    });
  } else {
    results.push({
      name: "salesforce Task fields",
      ok: true,
      detail: `Tasks can be created with ${wanted.join(", ")}`,
    });
  }
  const absent: string[] = [];
  for (const [fieldName, values] of Object.entries(TASK_PICKLIST_VALUES)) {
    const field = describe.fields.find((candidate) => candidate.name === fieldName);
    if (field === undefined) continue; // reported above
    const active = new Set(
      (field.picklistValues ?? []).filter((entry) => entry.active).map((entry) => entry.value),
    );
    for (const value of values) if (!active.has(value)) absent.push(`${fieldName} "${value}"`);
  }
  results.push(
    absent.length === 0
      ? {
          name: "salesforce Task picklists",
          ok: true,
          detail:
            "Status Completed, Priority Normal, TaskSubtype Task and Call, CallType Inbound and Outbound are active values",
        }
      : {
          name: "salesforce Task picklists",
          ok: false,
          detail: `picklist values the connector writes that are not active: ${absent.join(", ")}`,
          fix: "Add (or activate) the values in Setup → Object Manager → Task (Activity) → Fields & Relationships",
        },
  );
  return results;
}

async function ownerResult(
  services: ConnectorServices,
  ownerIds: readonly string[],
  signal: AbortSignal | undefined,
): Promise<HealthCheckResult> {
  const name = "salesforce owner";
  const list = ownerIds.map((id) => `'${escapeSoql(id)}'`).join(", ");
  const users = await services.api.query<{ Id: string; IsActive: boolean }>(
    `SELECT Id, IsActive FROM User WHERE Id IN (${list})`,
    { signal },
  );
  const active = new Set(users.filter((user) => user.IsActive).map((user) => user.Id.slice(0, 15)));
  const unusable = ownerIds.filter((id) => !active.has(id.slice(0, 15)));
  return unusable.length === 0
    ? { name, ok: true, detail: `records and Tasks are owned by ${ownerIds.join(", ")}` }
    : {
        name,
        ok: false,
        detail: `ownerId ${unusable.join(", ")} is not an active User of the org`,
        fix: "Set the route's salesforce.ownerId to the id (005…) of an active user, or remove it (the connected user owns what the connector creates)",
      };
}

export async function checkSalesforceHealth(
  services: ConnectorServices,
  options: {
    settings: readonly SalesforceRouteSettings[];
    authentication: ParsedConnectorOptions["authentication"];
    /** Above this share of the daily API limit the usage check fails. Default 0.8. */
    slowDownAtShare?: number | undefined;
  },
  context: ConnectorContext,
): Promise<HealthCheckResult[]> {
  const { api } = services;
  const signal = context.signal;
  const results: HealthCheckResult[] = [];

  // 1. Signing in: the cheapest call there is, and it gives the API usage.
  let limits: Awaited<ReturnType<typeof api.limits>>;
  try {
    limits = await api.limits({ signal });
  } catch (error) {
    if (error instanceof AuthenticationError) {
      return [
        {
          name: "salesforce sign-in",
          ok: false,
          detail: `Salesforce refused the credentials (${signInMethods[options.authentication]}): ${describeError(error)}`,
          fix: signInFixes[options.authentication],
        },
      ];
    }
    if (error instanceof SalesforceRequestLimitError) {
      return [
        {
          name: "salesforce API usage",
          ok: false,
          detail: `the org has used its daily API requests (REQUEST_LIMIT_EXCEEDED): ${describeError(error)}`,
          fix: "Wait for the rolling 24-hour window to free calls (queued work resumes by itself), or raise the org's API limit",
        },
      ];
    }
    return [
      {
        name: "salesforce sign-in",
        ok: false,
        detail: describeError(error),
        fix: "Check that the org (SALESFORCE_INSTANCE_URL / SALESFORCE_LOGIN_URL) is reachable and try again",
      },
    ];
  }
  results.push(
    options.authentication === "access-token"
      ? {
          name: "salesforce sign-in",
          ok: true,
          detail: `signed in to ${api.instanceUrl} with an access token alone: when it expires, work stops until a new one is set`,
          fix: signInFixes["access-token"],
        }
      : {
          name: "salesforce sign-in",
          ok: true,
          detail: `signed in to ${api.instanceUrl} (API v${api.apiVersion}) with ${signInMethods[options.authentication]}`,
        },
  );

  // 2. Daily API usage.
  const daily = limits.DailyApiRequests;
  const slowDownAtShare = options.slowDownAtShare ?? DEFAULT_SLOW_DOWN_AT_SHARE;
  if (daily !== undefined && daily.Max > 0) {
    const used = daily.Max - daily.Remaining;
    const share = used / daily.Max;
    const percent = `${Math.round(share * 100)}%`;
    results.push(
      share < slowDownAtShare
        ? {
            name: "salesforce API usage",
            ok: true,
            detail: `${used} of ${daily.Max} daily API requests used (${percent})`,
          }
        : {
            name: "salesforce API usage",
            ok: false,
            detail: `${used} of ${daily.Max} daily API requests used (${percent}): above ${Math.round(slowDownAtShare * 100)}% the connector spaces its calls out, and near the limit work waits`,
            fix: "Find what else uses the org's API calls (Setup → System Overview), raise the limit, or poll less often (SALESFORCE_POLL_INTERVAL_SECONDS)",
          },
    );
  }

  // 3. The objects and fields the routes use.
  const needs = objectNeeds(options.settings);
  for (const [objectName, objectNeed] of needs) {
    let describe: SalesforceDescribe;
    try {
      describe = await api.describe(objectName, { signal });
    } catch (error) {
      results.push({
        name: `salesforce ${objectName} fields`,
        ok: false,
        detail: `cannot describe ${objectName}: ${describeError(error)}`,
        fix: `Give the connected user read and edit access to ${objectName} records`,
      });
      continue;
    }
    results.push(objectFieldsResult(objectName, describe, objectNeed));
    const externalIdField = services.externalIdFields[objectName];
    if (externalIdField !== undefined) results.push(externalIdResult(objectName, describe, externalIdField));
  }

  const ownerIds = [
    ...new Set(
      options.settings.flatMap((settings) => (settings.ownerId === undefined ? [] : [settings.ownerId])),
    ),
  ];
  if (options.settings.some((settings) => settings.activities !== "off")) {
    try {
      results.push(...taskResults(await api.describe("Task", { signal }), ownerIds.length > 0));
    } catch (error) {
      results.push({
        name: "salesforce Task fields",
        ok: false,
        detail: `cannot describe Task: ${describeError(error)}`,
        fix: "Give the connected user access to Tasks (activities), or set the route's activities to off",
      });
    }
  }
  if (ownerIds.length > 0) {
    try {
      results.push(await ownerResult(services, ownerIds, signal));
    } catch (error) {
      results.push({ name: "salesforce owner", ok: false, detail: describeError(error) });
    }
  }
  return results;
}
