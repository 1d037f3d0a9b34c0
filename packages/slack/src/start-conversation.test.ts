import { describe, expect, it } from "vitest";
import { parseStartCommand, readNewConversationValues } from "./start-conversation.ts";

describe("parseStartCommand", () => {
  it("reads a number and the text", () => {
    expect(parseStartCommand("+15551234567 Hello there\nsecond line", "/linq")).toEqual({
      ok: true,
      phoneNumbers: ["+15551234567"],
      text: "Hello there\nsecond line",
    });
  });

  it("reads several numbers for a group chat and normalises them", () => {
    expect(parseStartCommand("(555)123-4567,+1-555-765-4321 Hi all", "/linq")).toEqual({
      ok: true,
      phoneNumbers: ["+15551234567", "+15557654321"],
      text: "Hi all",
    });
  });

  it("explains mistakes", () => {
    expect(parseStartCommand("", "/linq")).toMatchObject({ ok: false, help: true });
    expect(parseStartCommand("help", "/linq")).toMatchObject({ ok: false, help: true });
    const invalid = parseStartCommand("555-12 hello", "/linq");
    expect(invalid.ok).toBe(false);
    expect(invalid.ok ? "" : invalid.error).toContain('Invalid phone number "555-12"');
    const noText = parseStartCommand("+15551234567", "/linq");
    expect(noText.ok ? "" : noText.error).toContain("Add the text to send");
  });
});

describe("readNewConversationValues", () => {
  it("reads the modal's state values", () => {
    expect(
      readNewConversationValues({
        route: { value: { type: "static_select", selected_option: { value: "sales" } } },
        phone: { value: { type: "plain_text_input", value: "+15551234567" } },
        message: { value: { type: "plain_text_input", value: "Hi" } },
      }),
    ).toEqual({ routeName: "sales", phone: "+15551234567", message: "Hi" });
    expect(readNewConversationValues(undefined)).toEqual({ routeName: "", phone: "", message: "" });
  });
});
