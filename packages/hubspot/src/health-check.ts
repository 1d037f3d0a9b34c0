/**
 * `linq-sync doctor` for HubSpot: the token works, the private app has every scope the connector
 * uses, the mapped contact properties exist (custom ones included), and webhooks can be verified.
 *
 * Private app tokens cannot be introspected, so each scope is probed with a request that needs it and
 * changes nothing: reads list one record; writes PATCH record 0, which answers 404 when the scope is
 * there and 403 `MISSING_SCOPES` when it is not (HubSpot checks scopes first).
 */
import type { ConnectorContext, HealthCheckResult } from "@linq-connect/core";
import { AuthenticationError, isLinqConnectError, NotFoundError, ValidationError } from "@linq-connect/core";
import type { ConnectorServices } from "./connector-services.ts";
import { mappedHubSpotProperties } from "./field-mapping.ts";
import { HubSpotMissingScopesError } from "./hubspot-errors.ts";
import type { HubSpotRouteSettings } from "./settings.ts";

interface Probe {
  name: string;
  scope: string;
  run: () => Promise<unknown>;
}

function describe(error: unknown): string {
  return isLinqConnectError(error) ? error.message : error instanceof Error ? error.message : String(error);
}

export async function checkHubSpotHealth(
  services: ConnectorServices,
  input: {
    settings: readonly HubSpotRouteSettings[];
    clientSecret: string | undefined;
    appId: string | undefined;
    webhookUrl: string | undefined;
  },
  context: ConnectorContext,
): Promise<HealthCheckResult[]> {
  const { api } = services;
  const signal = context.signal;
  const results: HealthCheckResult[] = [];
  const client = api.client;
  const probes: Probe[] = [
    {
      name: "contacts read",
      scope: "crm.objects.contacts.read",
      run: () =>
        api.call("contacts.list", { repeatable: true, signal }, () =>
          client.crm.contacts.basicApi.getPage(1),
        ),
    },
    {
      name: "contacts write",
      scope: "crm.objects.contacts.write",
      run: () =>
        api.call("contacts.update", { repeatable: true, signal }, () =>
          client.crm.contacts.basicApi.update("0", { properties: {} }),
        ),
    },
    {
      name: "communications and calls write",
      scope: "crm.objects.contacts.write",
      run: () =>
        api.call("communications.update", { repeatable: true, signal }, () =>
          client.crm.objects.communications.basicApi.update("0", { properties: {} }),
        ),
    },
    {
      name: "owners read",
      scope: "crm.objects.owners.read",
      run: () =>
        api.call("owners.list", { repeatable: true, signal }, () =>
          client.crm.owners.ownersApi.getPage(undefined, undefined, 1),
        ),
    },
    {
      name: "contact properties read",
      scope: "crm.schemas.contacts.read",
      run: () => api.contactPropertyNames(signal),
    },
  ];
  if (input.settings.some((settings) => settings.associatePrimaryCompany)) {
    probes.push({
      name: "companies read",
      scope: "crm.objects.companies.read",
      run: () =>
        api.call("companies.list", { repeatable: true, signal }, () =>
          client.crm.companies.basicApi.getPage(1),
        ),
    });
  }
  let tokenOk = true;
  const missingScopes = new Set<string>();
  for (const probe of probes) {
    try {
      await probe.run();
    } catch (error) {
      // The write probes' expected answers: past the scope check, record 0 does not exist (or the
      // empty write is refused as such).
      if (error instanceof NotFoundError || error instanceof ValidationError) continue;
      if (error instanceof AuthenticationError) {
        tokenOk = false;
        break;
      }
      if (error instanceof HubSpotMissingScopesError) {
        missingScopes.add(error.requiredScopes[0] ?? probe.scope);
        continue;
      }
      results.push({
        name: `hubspot ${probe.name}`,
        ok: false,
        detail: describe(error),
        fix: "Check that api.hubapi.com is reachable and try again",
      });
    }
  }
  if (!tokenOk) {
    return [
      {
        name: "hubspot token",
        ok: false,
        detail: "HubSpot refused the access token (401)",
        fix: "Create a private app access token in HubSpot (Settings → Integrations → Private apps) and set HUBSPOT_ACCESS_TOKEN",
      },
    ];
  }
  results.unshift({ name: "hubspot token", ok: true, detail: "the access token is valid" });
  results.push(
    missingScopes.size === 0
      ? { name: "hubspot scopes", ok: true, detail: "every scope the connector uses is granted" }
      : {
          name: "hubspot scopes",
          ok: false,
          detail: `missing scopes: ${[...missingScopes].join(", ")}`,
          fix: `Add ${[...missingScopes].join(", ")} to the private app's scopes and use the new token`,
        },
  );
  if (!missingScopes.has("crm.schemas.contacts.read")) {
    try {
      const existing = await api.contactPropertyNames(signal);
      const wanted = new Set(
        input.settings.flatMap((settings) => mappedHubSpotProperties(settings.fieldMapping)),
      );
      for (const settings of input.settings) {
        const action = settings.contactDeleted;
        if (typeof action === "object") wanted.add(action.setProperty.name);
      }
      const missing = [...wanted].filter((name) => !existing.has(name));
      results.push(
        missing.length === 0
          ? {
              name: "hubspot contact properties",
              ok: true,
              detail: `all ${wanted.size} mapped properties exist`,
            }
          : {
              name: "hubspot contact properties",
              ok: false,
              detail: `mapped properties that do not exist: ${missing.join(", ")}`,
              fix: "Create them in HubSpot (Settings → Properties → Contact properties) or change the route's fieldMapping",
            },
      );
    } catch (error) {
      results.push({ name: "hubspot contact properties", ok: false, detail: describe(error) });
    }
  }
  results.push(
    input.clientSecret === undefined
      ? {
          name: "hubspot webhooks",
          ok: false,
          detail:
            "no client secret: HubSpot webhooks are refused (401); only the reconciliation brings HubSpot changes",
          fix: "Set HUBSPOT_CLIENT_SECRET to the app's client secret (Auth tab of the private app)",
        }
      : {
          name: "hubspot webhooks",
          ok: true,
          detail: `v3 signatures verified${input.webhookUrl === undefined ? " (URL rebuilt from the request's Host and X-Forwarded-* headers)" : ` for ${input.webhookUrl}`}`,
        },
  );
  if (input.appId === undefined) {
    results.push({
      name: "hubspot app id",
      ok: true,
      detail:
        "no app id: our own writes are recognised by comparing values only (one extra read per echoed change)",
      fix: "Set HUBSPOT_APP_ID to skip the echoes of our own writes without reading the contact",
    });
  }
  return results;
}
