import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { loadSettings } from "../config/environment.ts";
import { defaultRoutingConfig, parseRoutingConfig } from "../config/routing.ts";
import {
  SANDBOX_CUSTOMER_NUMBER,
  SANDBOX_LINQ_NUMBER,
  SANDBOX_SLACK_CHANNEL,
  sandboxRouting,
  sandboxWalkthrough,
  startSandbox,
} from "./sandbox.ts";

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

describe("the sandbox with Salesforce", () => {
  it("starts the Salesforce simulator for a route with crm: salesforce, logs texts there and links its page", async () => {
    const dataDirectory = await mkdtemp(join(tmpdir(), "linq-sync-sandbox-salesforce-"));
    const settings = loadSettings({ LINQ_SYNC_DATA_DIR: dataDirectory, PORT: "0" });
    // Salesforce for the sandbox's number, HubSpot for any other: the CRM is chosen per route.
    const routing = parseRoutingConfig(
      `routes:
  - name: sales
    match: { linqNumbers: ["${SANDBOX_LINQ_NUMBER}"] }
    crm: salesforce
  - name: others
    crm: hubspot
`,
      { fileName: "linq-sync.yaml", environment: {} },
    );
    const sandbox = await startSandbox({ settings, routing, logger: pino({ level: "silent" }), port: 0 });
    try {
      const salesforce = sandbox.salesforceSimulator;
      if (salesforce === undefined) throw new Error("a route uses Salesforce: its simulator should run");
      expect(sandbox.hubspotSimulator).toBeDefined();
      expect([...sandbox.application.connectors.keys()]).toEqual(["slack", "hubspot", "salesforce"]);
      const walkthrough = sandboxWalkthrough(sandbox);
      expect(walkthrough).toContain(`Salesforce simulator  ${salesforce.instanceUrl}`);
      expect(walkthrough).toContain(`Open ${salesforce.instanceUrl} in a browser`);
      // The environment's credentials are never used: the connector signs in to the simulator.
      expect(sandbox.application.settings.salesforce.instanceUrl).toBe(salesforce.instanceUrl);

      const response = await fetch(`${sandbox.application.url}/sandbox/linq/text`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ from: SANDBOX_CUSTOMER_NUMBER, text: "Hi! Is my order <b>ready</b>?" }),
      });
      expect(response.status).toBe(201);
      await waitFor(() => salesforce.state.records("Task").length === 1);
      const [contact, ...others] = salesforce.state.records("Contact");
      expect(others).toHaveLength(0);
      expect(contact?.MobilePhone).toBe(SANDBOX_CUSTOMER_NUMBER);
      const [task] = salesforce.state.records("Task");
      expect(task?.WhoId).toBe(contact?.Id);
      expect(String(task?.Description)).toContain("Is my order <b>ready</b>?");
      // The route's HubSpot neighbour got nothing.
      expect(sandbox.hubspotSimulator?.state.contacts()).toEqual([]);

      // The simulator's read-only page lists the Contact with its Task, every value escaped.
      const page = await fetch(salesforce.instanceUrl);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain(String(task?.Subject));
      expect(html).toContain("Is my order &lt;b&gt;ready&lt;/b&gt;?");
    } finally {
      await sandbox.stop();
      await rm(dataDirectory, { recursive: true, force: true });
    }
  }, 30_000);
});

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the sandbox");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
