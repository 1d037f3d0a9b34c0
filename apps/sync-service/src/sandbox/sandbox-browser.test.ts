// The sandbox as a newcomer sees it: a simulated customer text becomes a Slack thread, visible on the
// Slack simulator's page, and a HubSpot contact with the conversation in its timeline, visible on the
// HubSpot simulator's page, in a real browser (Debian's Chromium driven by playwright-core; installed by
// scripts/ensure-chromium.sh, never downloaded).
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSettings } from "../config/environment.ts";
import { defaultRoutingConfig } from "../config/routing.ts";
import { type RunningSandbox, SANDBOX_CUSTOMER_NUMBER, sandboxWalkthrough, startSandbox } from "./sandbox.ts";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("the sandbox in a browser", () => {
  let sandbox: RunningSandbox;
  let browser: Browser;
  let dataDirectory: string;

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`Chromium is not installed at ${chromiumPath}: run scripts/ensure-chromium.sh`);
    }
    dataDirectory = await mkdtemp(join(tmpdir(), "linq-sync-browser-"));
    const settings = loadSettings({ LINQ_SYNC_DATA_DIR: dataDirectory, PORT: "0" });
    sandbox = await startSandbox({
      settings,
      routing: defaultRoutingConfig(settings),
      logger: pino({ level: "silent" }),
      port: 0,
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
    if (dataDirectory !== undefined) await rm(dataDirectory, { recursive: true, force: true });
  });

  it("shows a simulated customer text and an agent's reply as a thread in the Slack channel page", async () => {
    const text = await fetch(`${sandbox.application.url}/sandbox/linq/text`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: SANDBOX_CUSTOMER_NUMBER, text: "Hi! Is my order <b>ready</b>?" }),
    });
    expect(text.status).toBe(201);
    await waitFor(async () => sandbox.slackSimulator.state.messages("C0SANDBOX").length === 1);
    const [parent] = sandbox.slackSimulator.state.messages("C0SANDBOX");
    await waitFor(async () => sandbox.slackSimulator.state.thread("C0SANDBOX", parent?.ts ?? "").length >= 2);

    const reply = await fetch(`${sandbox.application.url}/sandbox/slack/reply`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "Yes, it ships today!" }),
    });
    expect(reply.status).toBe(201);
    // The agent's reply reaches the customer through Linq.
    await waitFor(async () =>
      sandbox.linqSimulator.state.messages(1000).some((message) => message.text === "Yes, it ships today!"),
    );

    const page = await browser.newPage();
    try {
      await page.goto(`${sandbox.slackSimulator.baseUrl}/channels/C0SANDBOX`);
      const body = page.locator("body");
      await expect.poll(() => body.innerText(), { timeout: 10_000 }).toContain("Yes, it ships today!");
      const content = await body.innerText();
      expect(content).toContain("#linq-sandbox");
      expect(content).toContain("Conversation with (555) 123-4567");
      // The customer's text is shown as text, never as markup.
      expect(content).toContain("Is my order <b>ready</b>?");
      expect(await page.locator("b", { hasText: "ready" }).count()).toBe(0);
      expect(content).toContain("Alex Agent");
      await page.screenshot({ path: join(dataDirectory, "sandbox-slack.png") });
    } finally {
      await page.close();
    }
  });

  it("shows the customer as a HubSpot contact with the conversation in its timeline on the HubSpot page", async () => {
    const hubspot = sandbox.hubspotSimulator;
    if (hubspot === undefined) throw new Error("the default sandbox route should use HubSpot");
    expect(sandboxWalkthrough(sandbox)).toContain(`HubSpot simulator  ${hubspot.baseUrl}`);
    expect([...sandbox.application.connectors.keys()]).toEqual(["slack", "hubspot"]);
    // The customer text and the agent's reply of the test above, each logged once.
    const customerContacts = () =>
      hubspot.state.contacts().filter((contact) => contact.properties.phone === SANDBOX_CUSTOMER_NUMBER);
    await waitFor(async () => {
      const [contact] = customerContacts();
      return (
        contact !== undefined &&
        hubspot.state.associations("contacts", contact.id, "communications").length >= 2
      );
    });
    const [contact, ...duplicates] = customerContacts();
    expect(duplicates).toHaveLength(0);
    if (contact === undefined) throw new Error("no HubSpot contact for the customer");
    expect(hubspot.state.communications()).toHaveLength(2);

    const page = await browser.newPage();
    try {
      await page.goto(hubspot.baseUrl);
      await page.getByRole("link", { name: contact.id, exact: true }).click();
      await page.waitForURL(`${hubspot.baseUrl}/contacts/${contact.id}`);
      const content = await page.locator("body").textContent();
      expect(content).toContain("Timeline");
      expect(content).not.toContain("No activity yet.");
      expect(content).toContain(SANDBOX_CUSTOMER_NUMBER);
      expect(content).toContain("SMS");
      expect(content).toContain("Is my order");
      expect(content).toContain("Yes, it ships today!");
      await page.screenshot({ path: join(dataDirectory, "sandbox-hubspot.png") });
    } finally {
      await page.close();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
