import { describe, expect, it } from "vitest";
import { loadSettings } from "../config/environment.ts";
import { defaultRoutingConfig, parseRoutingConfig } from "../config/routing.ts";
import { SANDBOX_SLACK_CHANNEL, sandboxRouting } from "./sandbox.ts";

describe("sandboxRouting", () => {
  it("mirrors to Slack and syncs with HubSpot when there is no routing file and CRM_PROVIDER is unset", () => {
    const settings = loadSettings({});
    const [route] = sandboxRouting(defaultRoutingConfig(settings), settings).routes;
    expect(route).toMatchObject({
      name: "default",
      crm: "hubspot",
      contacts: "two-way",
      activities: "per-message",
      slack: { channel: SANDBOX_SLACK_CHANNEL, mode: "two-way" },
    });
  });

  it("keeps the CRM that CRM_PROVIDER names, none included", () => {
    for (const provider of ["none", "salesforce", "hubspot"] as const) {
      const settings = loadSettings({ CRM_PROVIDER: provider });
      const [route] = sandboxRouting(defaultRoutingConfig(settings), settings).routes;
      expect(route?.crm).toBe(provider);
      expect(route?.slack?.channel).toBe(SANDBOX_SLACK_CHANNEL);
    }
    const none = loadSettings({ CRM_PROVIDER: "none" });
    expect(sandboxRouting(defaultRoutingConfig(none), none).routes[0]).toMatchObject({
      contacts: "off",
      activities: "off",
    });
  });

  it("uses a routing file as written", () => {
    const file = parseRoutingConfig("routes:\n  - name: alerts\n    slack: { channel: C0ALERTS }\n", {
      fileName: "linq-sync.yaml",
      environment: {},
    });
    expect(sandboxRouting(file, loadSettings({}))).toBe(file);
  });
});
