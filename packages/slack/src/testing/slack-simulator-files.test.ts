import { ErrorCode, type WebAPIPlatformError } from "@slack/web-api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SlackSimulator } from "./simulator-types.ts";
import { callApi, webClient } from "./slack-simulator.test-helpers.ts";
import { startSlackSimulator } from "./slack-simulator.ts";

async function slackError(promise: Promise<unknown>): Promise<WebAPIPlatformError["data"]> {
  try {
    await promise;
  } catch (error) {
    expect((error as WebAPIPlatformError).code).toBe(ErrorCode.PlatformError);
    return (error as WebAPIPlatformError).data;
  }
  throw new Error("expected the call to fail");
}

describe("Slack simulator: reactions and files", () => {
  let simulator: SlackSimulator;

  beforeAll(async () => {
    simulator = await startSlackSimulator({
      rateLimits: false,
      channels: [
        { id: "C0SALES", name: "sales" },
        { id: "C0OUTSIDE", name: "outside", botIsMember: false },
        { id: "C0OLD", name: "old", isArchived: true },
      ],
    });
  });
  afterAll(async () => {
    await simulator.close();
  });
  afterEach(() => {
    simulator.reset();
  });

  it("reactions.add / reactions.get / reactions.remove with already_reacted and no_reaction", async () => {
    const client = webClient(simulator);
    const message = await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "Thanks!" });
    await simulator.users.react({ user: "U0ALEX", channel: "C0SALES", ts: message.ts, name: "heart" });
    expect(
      await client.reactions.add({ channel: "C0SALES", timestamp: message.ts, name: "heart" }),
    ).toMatchObject({
      ok: true,
    });
    // Slack stores the canonical name: thumbsup is +1.
    await client.reactions.add({ channel: "C0SALES", timestamp: message.ts, name: ":thumbsup:" });
    expect(simulator.state.reactions("C0SALES", message.ts)).toEqual([
      { name: "heart", users: ["U0ALEX", "U0SIMBOT"], count: 2 },
      { name: "+1", users: ["U0SIMBOT"], count: 1 },
    ]);
    expect(
      (await slackError(client.reactions.add({ channel: "C0SALES", timestamp: message.ts, name: "heart" })))
        .error,
    ).toBe("already_reacted");
    const got = await client.reactions.get({ channel: "C0SALES", timestamp: message.ts });
    expect(got).toMatchObject({
      ok: true,
      type: "message",
      channel: "C0SALES",
      message: {
        text: "Thanks!",
        user: "U0ALEX",
        reactions: [
          { name: "heart", count: 2 },
          { name: "+1", count: 1 },
        ],
        permalink: `${simulator.baseUrl}/archives/C0SALES/p${message.ts.replace(".", "")}`,
      },
    });
    await client.reactions.remove({ channel: "C0SALES", timestamp: message.ts, name: "+1" });
    expect(
      (await slackError(client.reactions.remove({ channel: "C0SALES", timestamp: message.ts, name: "+1" })))
        .error,
    ).toBe("no_reaction");
    expect(simulator.state.reactions("C0SALES", message.ts)).toEqual([
      { name: "heart", users: ["U0ALEX", "U0SIMBOT"], count: 2 },
    ]);
  });

  it("reaction errors: invalid_name, no_item_specified, bad_timestamp, message_not_found, is_archived, channel_not_found", async () => {
    const message = await simulator.users.post({ user: "U0ALEX", channel: "C0SALES", text: "x" });
    const add = (params: Record<string, unknown>) => callApi(simulator, "reactions.add", params);
    expect((await add({ channel: "C0SALES", timestamp: message.ts })).body.error).toBe("invalid_name");
    expect((await add({ channel: "C0SALES", timestamp: message.ts, name: "Not An Emoji" })).body.error).toBe(
      "invalid_name",
    );
    expect((await add({ name: "heart" })).body.error).toBe("no_item_specified");
    expect((await add({ channel: "C0SALES", timestamp: "yesterday", name: "heart" })).body.error).toBe(
      "bad_timestamp",
    );
    expect(
      (await add({ channel: "C0SALES", timestamp: "1600000000.000001", name: "heart" })).body.error,
    ).toBe("message_not_found");
    expect((await add({ channel: "C0NOPE", timestamp: message.ts, name: "heart" })).body.error).toBe(
      "channel_not_found",
    );
    simulator.channels.archive("C0SALES");
    expect((await add({ channel: "C0SALES", timestamp: message.ts, name: "heart" })).body.error).toBe(
      "is_archived",
    );
  });

  it("filesUploadV2 (getUploadURLExternal + upload + completeUploadExternal) lands the file in the thread", async () => {
    const client = webClient(simulator);
    const parent = await client.chat.postMessage({ channel: "C0SALES", text: "Chat with +1 555 0100" });
    const content = Buffer.from("%PDF-1.4 receipt bytes");
    const result = await client.filesUploadV2({
      channel_id: "C0SALES",
      thread_ts: parent.ts as string,
      file: content,
      filename: "receipt.pdf",
      title: "Receipt",
      initial_comment: "Customer sent a file",
    });
    expect(result.ok).toBe(true);
    const completion = (result.files as unknown as { files: { id: string; title: string }[] }[])[0]?.files[0];
    expect(completion?.title).toBe("Receipt");
    const fileId = completion?.id as string;
    expect(simulator.requests.map((request) => request.method)).toEqual([
      "chat.postMessage",
      "files.getUploadURLExternal",
      "upload",
      "files.completeUploadExternal",
    ]);
    const thread = simulator.state.thread("C0SALES", parent.ts as string);
    expect(thread).toHaveLength(2);
    expect(thread[1]).toMatchObject({
      subtype: "file_share",
      text: "Customer sent a file",
      user: "U0SIMBOT",
      bot_id: "B0SIMBOT",
      upload: true,
      thread_ts: parent.ts,
      files: [
        {
          id: fileId,
          name: "receipt.pdf",
          title: "Receipt",
          mimetype: "application/pdf",
          filetype: "pdf",
          size: content.byteLength,
          user: "U0SIMBOT",
        },
      ],
    });
    expect(simulator.state.fileContent(fileId)).toEqual(content);
    const info = await client.files.info({ file: fileId });
    expect(info.file).toMatchObject({
      id: fileId,
      channels: ["C0SALES"],
      shares: { public: { C0SALES: [{ ts: thread[1]?.ts, thread_ts: parent.ts, channel_name: "sales" }] } },
    });
    // The download URL needs the bot token.
    const download = await fetch(info.file?.url_private_download as string, {
      headers: { authorization: `Bearer ${simulator.botToken}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/pdf");
    expect(download.headers.get("content-disposition")).toBe('attachment; filename="receipt.pdf"');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(content);
  });

  it("url_private without (or with a wrong) token redirects to the sign-in page, as Slack does", async () => {
    const { file } = await simulator.users.shareFile({
      user: "U0ALEX",
      channel: "C0SALES",
      file: { name: "photo.png", content: Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
      text: "see attached",
    });
    const anonymous = await fetch(file.url_private, { redirect: "manual" });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toMatch(/\/signin\?redir=/);
    const followed = await fetch(file.url_private, { headers: { authorization: "Bearer xoxb-wrong" } });
    expect(followed.status).toBe(200);
    expect(followed.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await followed.text()).toContain("Sign in to Simulated Workspace");
    const authorized = await fetch(file.url_private, {
      headers: { authorization: `Bearer ${simulator.botToken}` },
    });
    expect(authorized.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await authorized.arrayBuffer())).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(
      simulator.requests
        .filter((request) => request.method === "file_download")
        .map((request) => request.status),
    ).toEqual([302, 302, 200]);
  });

  it("the upload URL enforces the declared length and takes raw bytes or multipart", async () => {
    const ticket = await webClient(simulator).files.getUploadURLExternal({
      filename: "notes.txt",
      length: 5,
    });
    expect(ticket.upload_url).toMatch(new RegExp(`^${simulator.baseUrl}/upload/v1/`));
    expect(ticket.file_id).toMatch(/^F[A-Z0-9]+$/);
    const tooLong = await fetch(ticket.upload_url as string, { method: "POST", body: "123456" });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toContain("expected 5 bytes, received 6");
    const raw = await fetch(ticket.upload_url as string, { method: "POST", body: "hello" });
    expect(raw.status).toBe(200);
    expect(await raw.text()).toBe("OK - 5");
    const second = await webClient(simulator).files.getUploadURLExternal({
      filename: "notes.txt",
      length: 3,
    });
    const form = new FormData();
    form.append("filename", new Blob(["abc"]), "notes.txt");
    expect((await fetch(second.upload_url as string, { method: "POST", body: form })).status).toBe(200);
    // Completed without a channel: private, no message anywhere.
    const completed = await webClient(simulator).files.completeUploadExternal({
      files: [{ id: ticket.file_id as string }, { id: second.file_id as string, title: "Second" }],
    });
    expect(completed.files).toEqual([
      { id: ticket.file_id, title: "notes.txt" },
      { id: second.file_id, title: "Second" },
    ]);
    expect(simulator.state.files().map((file) => [file.id, file.channels])).toEqual([
      [ticket.file_id, []],
      [second.file_id, []],
    ]);
    expect(simulator.state.messages("C0SALES")).toEqual([]);
  });

  it("upload errors: invalid_arguments, missing_argument, file_not_found, not_in_channel, channel_not_found", async () => {
    const client = webClient(simulator);
    expect((await callApi(simulator, "files.getUploadURLExternal", { length: "3" })).body).toEqual({
      ok: false,
      error: "invalid_arguments",
      response_metadata: { messages: ["[ERROR] missing required field: filename"] },
    });
    expect(
      (await callApi(simulator, "files.getUploadURLExternal", { filename: "a.txt", length: "0" })).body.error,
    ).toBe("missing_argument");
    const ticket = await client.files.getUploadURLExternal({ filename: "a.txt", length: 1 });
    // Nothing uploaded yet.
    expect(
      (
        await slackError(
          client.files.completeUploadExternal({
            files: [{ id: ticket.file_id as string }],
            channel_id: "C0SALES",
          }),
        )
      ).error,
    ).toBe("file_not_found");
    await fetch(ticket.upload_url as string, { method: "POST", body: "a" });
    expect(
      (
        await slackError(
          client.files.completeUploadExternal({
            files: [{ id: ticket.file_id as string }],
            channel_id: "C0OUTSIDE",
          }),
        )
      ).error,
    ).toBe("not_in_channel");
    expect(
      (
        await slackError(
          client.files.completeUploadExternal({
            files: [{ id: ticket.file_id as string }],
            channel_id: "C0NOPE",
          }),
        )
      ).error,
    ).toBe("channel_not_found");
    expect(
      (await slackError(client.files.completeUploadExternal({ files: [{ id: "F0UNKNOWN" }] }))).error,
    ).toBe("file_not_found");
    await client.files.completeUploadExternal({
      files: [{ id: ticket.file_id as string }],
      channel_id: "C0SALES",
    });
    // The ticket is used up.
    expect(
      (
        await slackError(
          client.files.completeUploadExternal({
            files: [{ id: ticket.file_id as string }],
            channel_id: "C0SALES",
          }),
        )
      ).error,
    ).toBe("file_not_found");
    expect(simulator.state.messages("C0SALES")).toHaveLength(1);
    expect((await slackError(client.files.info({ file: "F0UNKNOWN" }))).error).toBe("file_not_found");
  });

  it("files shared by users in a thread: file_share message with files, readable with files.info", async () => {
    const client = webClient(simulator);
    const parent = await client.chat.postMessage({ channel: "C0SALES", text: "Chat" });
    const { file, message } = await simulator.users.shareFile({
      user: "U0ALEX",
      channel: "C0SALES",
      threadTs: parent.ts as string,
      file: { name: "contract.pdf", content: "pdf bytes", title: "Contract" },
      text: "signed",
    });
    expect(message).toMatchObject({
      subtype: "file_share",
      user: "U0ALEX",
      text: "signed",
      thread_ts: parent.ts,
      upload: true,
      files: [{ id: file.id, name: "contract.pdf", title: "Contract", user: "U0ALEX" }],
    });
    expect((await client.files.info({ file: file.id })).file).toMatchObject({ id: file.id, size: 9 });
    expect(simulator.state.fileContent(file.id)?.toString()).toBe("pdf bytes");
  });
});
