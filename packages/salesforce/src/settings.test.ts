import { ConfigurationError } from "@linq-connect/core";
import { describe, expect, it } from "vitest";
import {
  parseConnectorOptions,
  parseDefaultRouteSettings,
  parseRouteSettings,
  validateSalesforceRouteSettings,
} from "./settings.ts";

const route = (settings: Record<string, unknown>) => ({ name: "sales", settings });

describe("Salesforce route settings", () => {
  it("starts from the built-in defaults", () => {
    const settings = parseDefaultRouteSettings(undefined);
    expect(settings).toMatchObject({
      contacts: "two-way",
      activities: "per-message",
      objectType: "Contact",
      createUnknownContacts: true,
      conflictTieBreaker: "salesforce",
    });
    expect(settings.fieldMapping.phone_number).toBe("MobilePhone");
    expect(settings.fieldMapping.company).toBeNull();
  });

  it("takes Lead's default mapping when a route switches to Lead, then the route's overrides", () => {
    const defaults = parseDefaultRouteSettings({ fieldMapping: { title: null } });
    const lead = parseRouteSettings(
      route({ objectType: "Lead", fieldMapping: { phone_number: "Phone" } }),
      defaults,
    );
    expect(lead.fieldMapping).toMatchObject({ company: "Company", location: "City", phone_number: "Phone" });
    const contact = parseRouteSettings(route({ fieldMapping: { location: null } }), defaults);
    expect(contact.fieldMapping).toMatchObject({ title: null, location: null, phone_number: "MobilePhone" });
  });

  it("refuses unknown keys, bad field names, a null LastName and bad time zones, naming the route", () => {
    expect(() => validateSalesforceRouteSettings(route({ objctType: "Lead" }))).toThrow(
      /Route "sales".*objctType/,
    );
    expect(() => validateSalesforceRouteSettings(route({ fieldMapping: { email: "E-mail" } }))).toThrow(
      /salesforce\.fieldMapping\.email: expected a Salesforce field API name/,
    );
    expect(() => validateSalesforceRouteSettings(route({ fieldMapping: { last_name: null } }))).toThrow(
      /LastName is required/,
    );
    expect(() => validateSalesforceRouteSettings(route({ digestTimeZone: "Mars/Olympus" }))).toThrow(
      /IANA time zone/,
    );
    expect(() => validateSalesforceRouteSettings(route({ ownerId: "nope" }))).toThrow(ConfigurationError);
  });
});

describe("Salesforce connector options", () => {
  it("picks the authentication from what is given", () => {
    expect(
      parseConnectorOptions({ accessToken: "t", instanceUrl: "https://x.my.salesforce.com" }, false)
        .authentication,
    ).toBe("access-token");
    expect(parseConnectorOptions({ refreshToken: "r", clientId: "c" }, false)).toMatchObject({
      authentication: "refresh-token",
      loginUrl: "https://login.salesforce.com",
      apiVersion: "62.0",
      pollIntervalSeconds: 60,
      slowDownAtShare: 0.8,
      stopAtShare: 0.95,
    });
    const jwt = parseConnectorOptions(
      {
        jwt: { clientId: "c", username: "u@example.com", privateKey: "-----BEGIN PRIVATE KEY-----\n…" },
        loginUrl: "https://test.salesforce.com/",
      },
      false,
    );
    expect(jwt).toMatchObject({ authentication: "jwt", loginUrl: "https://test.salesforce.com" });
    expect(parseConnectorOptions({}, true).authentication).toBe("injected");
  });

  it("explains missing credentials and never echoes a secret", () => {
    expect(() => parseConnectorOptions({}, false)).toThrow(/give accessToken \+ instanceUrl/);
    expect(() => parseConnectorOptions({ accessToken: "secret-token-value" }, false)).toThrow(
      /needs instanceUrl/,
    );
    expect(() => parseConnectorOptions({ refreshToken: "secret-refresh-value" }, false)).toThrow(
      /needs clientId/,
    );
    try {
      parseConnectorOptions({ jwt: { clientId: "c", username: "u", privateKey: "secret-key-text" } }, false);
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/PEM private key/);
      expect(String(error)).not.toContain("secret-key-text");
    }
  });

  it("validates limits and the external id field", () => {
    expect(() =>
      parseConnectorOptions(
        { accessToken: "t", instanceUrl: "https://x.test", slowDownAtShare: 0.9, stopAtShare: 0.5 },
        false,
      ),
    ).toThrow(/stopAtShare must be at least slowDownAtShare/);
    expect(
      parseConnectorOptions(
        { accessToken: "t", instanceUrl: "https://x.test", externalIdField: "Linq_Id__c" },
        false,
      ).externalIdFields,
    ).toEqual({ Contact: "Linq_Id__c", Lead: "Linq_Id__c" });
    expect(
      parseConnectorOptions(
        { accessToken: "t", instanceUrl: "https://x.test", externalIdField: { Lead: "Linq__c" } },
        false,
      ).externalIdFields,
    ).toEqual({ Lead: "Linq__c" });
    expect(() =>
      parseConnectorOptions(
        { accessToken: "t", instanceUrl: "https://x.test", pollIntervalSeconds: 1 },
        false,
      ),
    ).toThrow(/pollIntervalSeconds/);
  });
});
