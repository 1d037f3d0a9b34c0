import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hubSpotSignatureUri, signHubSpotWebhookV1, signHubSpotWebhookV3 } from "./simulator-signature.ts";

describe("HubSpot webhook signatures", () => {
  it("v1 matches the example of HubSpot's documentation", () => {
    const body =
      '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
    expect(signHubSpotWebhookV1({ clientSecret: "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", body })).toBe(
      "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
    );
  });

  it("v3 is base64(HMAC-SHA256(secret, method + uri + body + timestamp))", () => {
    const input = {
      clientSecret: "secret",
      method: "POST",
      uri: "https://example.com/webhooks/hubspot?tenant=a",
      body: '[{"eventId":1}]',
      timestamp: 1_768_478_400_000,
    };
    const expected = createHmac("sha256", "secret")
      .update('POSThttps://example.com/webhooks/hubspot?tenant=a[{"eventId":1}]1768478400000')
      .digest("base64");
    expect(signHubSpotWebhookV3(input)).toBe(expected);
    expect(signHubSpotWebhookV3({ ...input, method: "post", timestamp: "1768478400000" })).toBe(expected);
    expect(signHubSpotWebhookV3({ ...input, body: '[{"eventId":2}]' })).not.toBe(expected);
  });

  it("v3 signs the URI with HubSpot's listed percent-encodings decoded", () => {
    expect(hubSpotSignatureUri("https://example.com/hook%3Fa%3Db%2Fc%40d%2a%20")).toBe(
      "https://example.com/hook?a%3Db/c@d*%20",
    );
    const encoded = signHubSpotWebhookV3({
      clientSecret: "s",
      method: "POST",
      uri: "https://example.com/hook%40x",
      body: "",
      timestamp: 1,
    });
    expect(encoded).toBe(
      signHubSpotWebhookV3({
        clientSecret: "s",
        method: "POST",
        uri: "https://example.com/hook@x",
        body: "",
        timestamp: 1,
      }),
    );
  });
});
