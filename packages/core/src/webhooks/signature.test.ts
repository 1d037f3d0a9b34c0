import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WebhookSignatureError } from "../errors.ts";
import { messageReceivedExample } from "./example-events.test-helpers.ts";
import {
  canonicalizeJson,
  isValidWebhookSignature,
  signWebhook,
  verifyWebhookSignature,
} from "./signature.ts";

const secret = "whsec_test_secret";

function hmacHex(key: string, payload: string | Uint8Array): string {
  return createHmac("sha256", key).update(payload).digest("hex");
}

function expectSignatureError(run: () => void): WebhookSignatureError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookSignatureError);
    return error as WebhookSignatureError;
  }
  throw new Error("expected a WebhookSignatureError");
}

/** A tiny deterministic PRNG so fast-check seeds drive key shuffling and whitespace. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

/** Serialises JSON with shuffled keys and random insignificant whitespace. */
function scrambledJson(value: unknown, random: () => number): string {
  const whitespace = () => [" ", "\n", "\t", "\r\n", "", "  "][Math.floor(random() * 6)] ?? "";
  if (Array.isArray(value)) {
    return `[${whitespace()}${value.map((item) => whitespace() + scrambledJson(item, random) + whitespace()).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    for (let index = keys.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [keys[index], keys[other]] = [keys[other] as string, keys[index] as string];
    }
    const members = keys.map(
      (key) =>
        `${whitespace()}${JSON.stringify(key)}${whitespace()}:${whitespace()}${scrambledJson(
          (value as Record<string, unknown>)[key],
          random,
        )}${whitespace()}`,
    );
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

describe("signWebhook", () => {
  it("matches the RFC 4231 HMAC-SHA256 test vector", () => {
    expect(signWebhook({ payload: "what do ya want for nothing?", secret: "Jefe" })).toBe(
      "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("signs the exact bytes, for strings and Buffers alike", () => {
    const body = JSON.stringify(messageReceivedExample);
    expect(signWebhook({ payload: body, secret })).toBe(`sha256=${hmacHex(secret, body)}`);
    expect(signWebhook({ payload: Buffer.from(body), secret })).toBe(`sha256=${hmacHex(secret, body)}`);
    expect(signWebhook({ payload: new Uint8Array(Buffer.from("é")), secret })).toBe(
      `sha256=${hmacHex(secret, "é")}`,
    );
  });

  it("refuses a parsed object", () => {
    expect(() => signWebhook({ payload: messageReceivedExample as never, secret })).toThrow(TypeError);
  });
});

describe("verifyWebhookSignature", () => {
  const body = JSON.stringify(messageReceivedExample, null, 2);

  it("accepts a signature over the raw body (string or Buffer)", () => {
    const header = `sha256=${hmacHex(secret, body)}`;
    expect(() => verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret })).not.toThrow();
    expect(() =>
      verifyWebhookSignature({ rawBody: Buffer.from(body), signatureHeader: header, secret }),
    ).not.toThrow();
    expect(
      isValidWebhookSignature({
        rawBody: new Uint8Array(Buffer.from(body)),
        signatureHeader: header,
        secret,
      }),
    ).toBe(true);
  });

  it("tolerates the case of prefix and hex and surrounding whitespace", () => {
    const hex = hmacHex(secret, body);
    for (const header of [`SHA256=${hex.toUpperCase()}`, `  sha256=${hex}\t`, `Sha256=${hex}\n`]) {
      expect(isValidWebhookSignature({ rawBody: body, signatureHeader: header, secret })).toBe(true);
    }
  });

  it("accepts a signature over the canonical JSON form of a reordered, re-whitespaced body", () => {
    const canonical = canonicalizeJson(messageReceivedExample);
    const header = `sha256=${hmacHex(secret, canonical)}`;
    const reordered = `{ "event_type": "message.received",\n "data": ${JSON.stringify(
      messageReceivedExample.data,
      null,
      4,
    )}, "event_id": "9dabceb9-9194-4dc6-beda-892573f377b4", "created_at": "2025-05-21T15:30:00-06:00", "api_version": "v2" }`;
    expect(reordered).not.toBe(canonical);
    expect(isValidWebhookSignature({ rawBody: reordered, signatureHeader: header, secret })).toBe(true);
    // …but a different value with the same keys does not verify.
    const changed = reordered.replace("Hello, how are you?", "Hello, how are you!");
    expect(isValidWebhookSignature({ rawBody: changed, signatureHeader: header, secret })).toBe(false);
  });

  it("accepts any of the rotation secrets", () => {
    const header = signWebhook({ payload: body, secret: "new-secret" });
    expect(isValidWebhookSignature({ rawBody: body, signatureHeader: header, secret })).toBe(false);
    expect(
      isValidWebhookSignature({
        rawBody: body,
        signatureHeader: header,
        secret,
        additionalSecrets: ["other", "new-secret"],
      }),
    ).toBe(true);
  });

  it("rejects a signature made with another secret, without revealing secrets or the expected signature", () => {
    const header = signWebhook({ payload: body, secret: "wrong-secret" });
    const error = expectSignatureError(() =>
      verifyWebhookSignature({ rawBody: body, signatureHeader: header, secret }),
    );
    expect(error.message).toBe("Webhook signature does not match");
    expect(error.status).toBe(401);
    expect(error.isRetryable).toBe(false);
    const expected = hmacHex(secret, body);
    const serialized = `${error.message} ${JSON.stringify(error.toJSON())} ${error.stack ?? ""}`;
    expect(serialized).not.toContain(secret);
    expect(serialized).not.toContain(expected);
  });

  it("rejects a missing or empty header", () => {
    for (const signatureHeader of [undefined, null, "", "   "]) {
      const error = expectSignatureError(() =>
        verifyWebhookSignature({ rawBody: body, signatureHeader, secret }),
      );
      expect(error.message).toMatch(/missing/i);
    }
  });

  it("rejects malformed headers", () => {
    const hex = hmacHex(secret, body);
    const malformed = [
      "sha256=zz",
      `md5=${hex}`,
      hex,
      `sha256=${hex.slice(0, 62)}`,
      `sha256=${hex}00`,
      `sha256=${hex.slice(1)}`,
      `sha256= ${hex}`,
      `sha256=${hex},sha256=${hex}`,
      `sha1=${hex}`,
      "sha256=",
      [`sha256=${hex}`] as never,
    ];
    for (const signatureHeader of malformed) {
      expect(
        isValidWebhookSignature({ rawBody: body, signatureHeader, secret }),
        String(signatureHeader),
      ).toBe(false);
      expectSignatureError(() => verifyWebhookSignature({ rawBody: body, signatureHeader, secret }));
    }
  });

  it("rejects a tampered body", () => {
    const header = signWebhook({ payload: body, secret });
    expect(
      isValidWebhookSignature({
        rawBody: body.replace("27799380", "27799381"),
        signatureHeader: header,
        secret,
      }),
    ).toBe(false);
  });

  it("throws a helpful TypeError when given a parsed object", () => {
    const header = signWebhook({ payload: body, secret });
    const call = () =>
      verifyWebhookSignature({ rawBody: JSON.parse(body) as never, signatureHeader: header, secret });
    expect(call).toThrow(TypeError);
    expect(call).toThrow(
      /raw request body \(string or Buffer\).*parsed object.*express\.raw\(\).*request\.text\(\)/s,
    );
    expect(() =>
      verifyWebhookSignature({ rawBody: [1, 2] as never, signatureHeader: header, secret }),
    ).toThrow(/parsed object/);
    expect(() =>
      isValidWebhookSignature({ rawBody: undefined as never, signatureHeader: header, secret }),
    ).toThrow(TypeError);
  });

  it("refuses empty secrets", () => {
    expect(() => verifyWebhookSignature({ rawBody: body, signatureHeader: "sha256=00", secret: "" })).toThrow(
      TypeError,
    );
  });

  it("does not crash on bodies too deeply nested to canonicalise", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expect(
      isValidWebhookSignature({ rawBody: deep, signatureHeader: `sha256=${"0".repeat(64)}`, secret }),
    ).toBe(false);
    expect(
      isValidWebhookSignature({
        rawBody: deep,
        signatureHeader: signWebhook({ payload: deep, secret }),
        secret,
      }),
    ).toBe(true);
  });
});

describe("canonicalizeJson", () => {
  it("sorts keys recursively, keeps array order and drops whitespace", () => {
    expect(canonicalizeJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x y" } })).toBe(
      '{"a":{"c":"x y","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("sorts integer-like keys as strings, not in JavaScript's numeric property order", () => {
    expect(canonicalizeJson({ "10": 1, "9": 2, a: 3, "1": 4 })).toBe('{"1":4,"10":1,"9":2,"a":3}');
  });

  it("sorts by code point", () => {
    expect(canonicalizeJson({ "\u{1F600}": 1, "\uFFFD": 2, B: 3, a: 4 })).toBe(
      '{"B":3,"a":4,"\uFFFD":2,"\u{1F600}":1}',
    );
  });

  it("treats values JSON cannot hold like JSON.stringify does", () => {
    expect(canonicalizeJson({ a: undefined, b: [undefined], c: new Date(0) })).toBe(
      '{"b":[null],"c":"1970-01-01T00:00:00.000Z"}',
    );
    expect(canonicalizeJson(undefined)).toBe("null");
  });
});

describe("signature properties", () => {
  const secretArbitrary = fc.string({ minLength: 1, maxLength: 64 });

  it("sign → verify round-trips for arbitrary JSON and secrets", () => {
    fc.assert(
      fc.property(fc.jsonValue(), secretArbitrary, (value, key) => {
        const payload = JSON.stringify(value);
        const signatureHeader = signWebhook({ payload, secret: key });
        return (
          isValidWebhookSignature({ rawBody: payload, signatureHeader, secret: key }) &&
          isValidWebhookSignature({ rawBody: Buffer.from(payload), signatureHeader, secret: key })
        );
      }),
    );
  });

  it("any single-byte change of the body fails, unless it is the same JSON in canonical form", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 256 }),
          fc.jsonValue().map((value) => new Uint8Array(Buffer.from(JSON.stringify(value, null, 1)))),
        ),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        secretArbitrary,
        (original, position, flip, key) => {
          const mutated = Uint8Array.from(original);
          const index = position % mutated.length;
          mutated[index] = (mutated[index] ?? 0) ^ flip;
          let mutatedCanonical: string | undefined;
          try {
            mutatedCanonical = canonicalizeJson(JSON.parse(Buffer.from(mutated).toString("utf8")));
          } catch {
            mutatedCanonical = undefined;
          }
          // The documented canonical fallback legitimately accepts this one case.
          fc.pre(
            mutatedCanonical === undefined || !Buffer.from(mutatedCanonical).equals(Buffer.from(original)),
          );
          const signatureHeader = signWebhook({ payload: original, secret: key });
          return !isValidWebhookSignature({ rawBody: mutated, signatureHeader, secret: key });
        },
      ),
    );
  });

  it("any change of one hex digit of the signature fails", () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.nat(63),
        fc.integer({ min: 1, max: 15 }),
        secretArbitrary,
        (value, index, delta, key) => {
          const payload = JSON.stringify(value);
          const signatureHeader = signWebhook({ payload, secret: key });
          const hex = signatureHeader.slice("sha256=".length);
          const digit = (Number.parseInt(hex[index] ?? "0", 16) + delta) % 16;
          const mutated = `sha256=${hex.slice(0, index)}${digit.toString(16)}${hex.slice(index + 1)}`;
          return !isValidWebhookSignature({ rawBody: payload, signatureHeader: mutated, secret: key });
        },
      ),
    );
  });

  it("a key-shuffled, re-whitespaced serialisation verifies against a signature over the canonical form", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.integer(),
        secretArbitrary,
        (value, seed, key) => {
          const scrambled = scrambledJson(value, createRandom(seed));
          const signatureHeader = signWebhook({ payload: canonicalizeJson(value), secret: key });
          expect(JSON.parse(scrambled)).toEqual(JSON.parse(JSON.stringify(value)));
          return isValidWebhookSignature({ rawBody: scrambled, signatureHeader, secret: key });
        },
      ),
    );
  });

  it("canonicalizeJson is idempotent and independent of key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
        const canonical = canonicalizeJson(value);
        const reparsedCanonical = canonicalizeJson(JSON.parse(canonical));
        const shuffledCanonical = canonicalizeJson(JSON.parse(scrambledJson(value, createRandom(seed))));
        return reparsedCanonical === canonical && shuffledCanonical === canonical;
      }),
    );
  });
});
