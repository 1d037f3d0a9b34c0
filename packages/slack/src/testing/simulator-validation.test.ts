import { describe, expect, it } from "vitest";
import { validateBlocks, validateModalView } from "./simulator-validation.ts";

const text = (value: string) => ({ type: "mrkdwn", text: value });
const plain = (value: string) => ({ type: "plain_text", text: value });

describe("Block Kit validation", () => {
  it("accepts the common message blocks", () => {
    expect(
      validateBlocks(
        [
          { type: "header", text: plain("New chat") },
          { type: "section", text: text("*From* +1 555 0100"), block_id: "from" },
          { type: "section", fields: [text("a"), text("b")] },
          { type: "divider" },
          { type: "context", elements: [text("via Linq")] },
          { type: "actions", elements: [{ type: "button", text: plain("Open"), action_id: "open" }] },
          { type: "image", image_url: "https://example.com/a.png", alt_text: "photo" },
          { type: "rich_text", elements: [] },
          { type: "markdown", text: "**hi**" },
        ],
        { pointer: "/blocks", surface: "message" },
      ),
    ).toEqual([]);
  });

  it("reports each problem with its JSON pointer", () => {
    expect(
      validateBlocks(
        [
          "not an object",
          { type: "header", text: text("mrkdwn is not allowed in headers") },
          { type: "section", text: text("x".repeat(3001)) },
          { type: "section", fields: Array.from({ length: 11 }, () => text("f")) },
          { type: "context", elements: [] },
          { type: "image" },
          { type: "input", label: plain("only in modals"), element: {} },
          { type: "divider", block_id: "same" },
          { type: "divider", block_id: "same" },
          { type: "markdown" },
          { type: "rich_text" },
        ],
        { pointer: "/blocks", surface: "message" },
      ),
    ).toEqual([
      "[ERROR] must be an object [json-pointer:/blocks/0]",
      "[ERROR] must be one of [plain_text] [json-pointer:/blocks/1/text/type]",
      "[ERROR] must be less than 3001 characters [json-pointer:/blocks/2/text/text]",
      "[ERROR] no more than 10 items allowed [json-pointer:/blocks/3/fields]",
      "[ERROR] missing required field: elements [json-pointer:/blocks/4]",
      "[ERROR] missing required field: image_url [json-pointer:/blocks/5]",
      "[ERROR] missing required field: alt_text [json-pointer:/blocks/5]",
      "[ERROR] unsupported type: input [json-pointer:/blocks/6/type]",
      "[ERROR] duplicate block_id [json-pointer:/blocks/8/block_id]",
      "[ERROR] missing required field: text [json-pointer:/blocks/9]",
      "[ERROR] missing required field: elements [json-pointer:/blocks/10]",
    ]);
  });

  it("limits messages to 50 blocks and modals to 100", () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: "divider" }));
    expect(validateBlocks(blocks, { pointer: "/blocks", surface: "message" })).toEqual([
      "[ERROR] no more than 50 items allowed [json-pointer:/blocks]",
    ]);
    expect(validateBlocks(blocks, { pointer: "/view/blocks", surface: "modal" })).toEqual([]);
  });
});

describe("modal view validation", () => {
  it("requires type modal, a short plain-text title and blocks; submit with inputs; length limits", () => {
    expect(validateModalView("nope")).toEqual(["[ERROR] must be an object [json-pointer:/view]"]);
    expect(validateModalView({})).toEqual([
      "[ERROR] missing required field: type [json-pointer:/view]",
      "[ERROR] missing required field: title [json-pointer:/view]",
      "[ERROR] missing required field: blocks [json-pointer:/view]",
    ]);
    expect(
      validateModalView({
        type: "home",
        title: plain("ok"),
        close: plain("A close label that is too long"),
        blocks: [],
        private_metadata: "x".repeat(3001),
        callback_id: 7,
      }),
    ).toEqual([
      "[ERROR] must be one of [modal] [json-pointer:/view/type]",
      "[ERROR] must be less than 25 characters [json-pointer:/view/close/text]",
      "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]",
      "[ERROR] must be a string [json-pointer:/view/callback_id]",
    ]);
    expect(
      validateModalView({
        type: "modal",
        title: plain("Link"),
        submit: plain("Save"),
        blocks: [{ type: "input", label: plain("Number"), element: { type: "plain_text_input" } }],
      }),
    ).toEqual([]);
  });
});
