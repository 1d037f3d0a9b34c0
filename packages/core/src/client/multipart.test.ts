import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { AbortError, ValidationError } from "../errors.ts";
import { encodeSendMessageForm } from "./multipart.ts";

async function decode(encoded: { bytes: Buffer; contentType: string }): Promise<FormData> {
  return new Response(new Uint8Array(encoded.bytes), {
    headers: { "content-type": encoded.contentType },
  }).formData();
}

const options = { operation: "sendMessage", maxUploadBytes: 1_000 };

describe("encodeSendMessageForm", () => {
  it("encodes text, idempotency key, files and URLs under the documented field names", async () => {
    const encoded = await encodeSendMessageForm(
      {
        text: "Héllo 👋",
        idempotencyKey: "key-1",
        attachments: [
          { data: Buffer.from("buffer bytes"), filename: "a.txt", contentType: "text/plain" },
          { data: new Blob(["blob bytes"], { type: "image/png" }), filename: "b.png" },
          { data: Readable.from([Buffer.from("node "), Buffer.from("stream")]), filename: "c.bin" },
          {
            data: new ReadableStream<Uint8Array>({
              start(controller) {
                controller.enqueue(new TextEncoder().encode("web stream"));
                controller.close();
              },
            }),
            filename: "d.pdf",
            contentType: "application/pdf",
          },
        ],
        attachmentUrls: ["https://example.com/1.jpg", "https://example.com/2.jpg"],
      },
      options,
    );
    expect(encoded.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const form = await decode(encoded);
    expect(form.get("message[text]")).toBe("Héllo 👋");
    expect(form.get("message[idempotency_key]")).toBe("key-1");
    expect(form.getAll("message[attachment_urls][]")).toEqual([
      "https://example.com/1.jpg",
      "https://example.com/2.jpg",
    ]);
    const files = form.getAll("message[attachments][]") as File[];
    expect(files.map((file) => file.name)).toEqual(["a.txt", "b.png", "c.bin", "d.pdf"]);
    expect(files.map((file) => file.type)).toEqual([
      "text/plain",
      "image/png",
      "application/octet-stream",
      "application/pdf",
    ]);
    expect(await Promise.all(files.map((file) => file.text()))).toEqual([
      "buffer bytes",
      "blob bytes",
      "node stream",
      "web stream",
    ]);
  });

  it("omits attachment fields when there are none", async () => {
    const form = await decode(await encodeSendMessageForm({ text: "hi", idempotencyKey: "k" }, options));
    expect([...form.keys()]).toEqual(["message[text]", "message[idempotency_key]"]);
  });

  it("refuses uploads over the cap, for bytes, blobs and streams, before sending", async () => {
    const big = Buffer.alloc(1_001);
    await expect(
      encodeSendMessageForm(
        { text: "x", idempotencyKey: "k", attachments: [{ data: big, filename: "a" }] },
        options,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      encodeSendMessageForm(
        { text: "x", idempotencyKey: "k", attachments: [{ data: new Blob([big]), filename: "a" }] },
        options,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    // The cap is on the total: two 600-byte files exceed 1 000.
    const stream = Readable.from([Buffer.alloc(300), Buffer.alloc(300)]);
    await expect(
      encodeSendMessageForm(
        {
          text: "x",
          idempotencyKey: "k",
          attachments: [
            { data: Buffer.alloc(600), filename: "a" },
            { data: stream, filename: "b" },
          ],
        },
        options,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(stream.destroyed).toBe(true);
  });

  it("requires a filename and supported data", async () => {
    await expect(
      encodeSendMessageForm(
        { text: "x", idempotencyKey: "k", attachments: [{ data: Buffer.from("a"), filename: "" }] },
        options,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      encodeSendMessageForm(
        { text: "x", idempotencyKey: "k", attachments: [{ data: 42 as unknown as Buffer, filename: "a" }] },
        options,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it("stops reading a stream when the caller aborts", async () => {
    const controller = new AbortController();
    async function* chunks() {
      yield Buffer.from("a");
      controller.abort();
      yield Buffer.from("b");
    }
    await expect(
      encodeSendMessageForm(
        { text: "x", idempotencyKey: "k", attachments: [{ data: Readable.from(chunks()), filename: "a" }] },
        { ...options, signal: controller.signal },
      ),
    ).rejects.toBeInstanceOf(AbortError);
  });
});
