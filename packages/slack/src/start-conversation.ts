/**
 * Starting a conversation from Slack: the `/linq +15551234567 Hello` slash command and the
 * "New text conversation" shortcut's modal. Parsing and the modal's Block Kit live here; the work
 * (create the chat, its thread, answer) is the `slack.start-conversation` job in slack-to-linq.ts.
 */
import { InvalidPhoneNumberError, normalizePhoneNumber } from "@linq-connect/core";
import type { ResolvedSlackRoute } from "./settings.ts";

export type StartCommand =
  | { ok: true; phoneNumbers: string[]; text: string }
  | { ok: false; error: string; help: boolean };

export function commandUsage(command: string): string {
  return [
    `*${command}* texts a customer from Slack and mirrors the conversation into this channel:`,
    `\`${command} +15551234567 Hello, your order is ready\``,
    `\`${command} +15551234567,+15557654321 Hello both\` (a group chat)`,
    "Write the number without spaces. The text goes out from this channel's Linq number.",
  ].join("\n");
}

/** Parses the command's text: the number(s) (comma-separated, no spaces) then the message. */
export function parseStartCommand(text: string, command: string): StartCommand {
  const trimmed = text.trim();
  if (trimmed === "" || /^help$/i.test(trimmed)) {
    return { ok: false, error: commandUsage(command), help: true };
  }
  const match = /^(\S+)\s+([\s\S]+)$/.exec(trimmed);
  const numbersPart = match?.[1] ?? trimmed;
  const message = match?.[2]?.trim() ?? "";
  const phoneNumbers: string[] = [];
  for (const candidate of numbersPart.split(",").filter((part) => part !== "")) {
    try {
      const number = normalizePhoneNumber(candidate);
      if (!phoneNumbers.includes(number)) phoneNumbers.push(number);
    } catch (error) {
      const reason =
        error instanceof InvalidPhoneNumberError ? error.message : `Invalid phone number ${candidate}`;
      return { ok: false, error: `${reason}.\n${commandUsage(command)}`, help: false };
    }
  }
  if (phoneNumbers.length === 0) return { ok: false, error: commandUsage(command), help: true };
  if (message === "") {
    return {
      ok: false,
      error: `Add the text to send after the number.\n${commandUsage(command)}`,
      help: false,
    };
  }
  return { ok: true, phoneNumbers, text: message };
}

export const newConversationShortcutId = "linq_new_conversation";
export const newConversationViewId = "linq_new_conversation_view";

/** The modal of the "New text conversation" shortcut. */
export function newConversationView(routes: readonly ResolvedSlackRoute[]): Record<string, unknown> {
  const choices = routes
    .filter((route) => route.settings.mode === "two-way")
    .slice(0, 100)
    .map((route) => ({
      text: { type: "plain_text", text: `${route.name} (<#${route.settings.channel}>)`.slice(0, 75) },
      value: route.name,
    }));
  return {
    type: "modal",
    callback_id: newConversationViewId,
    title: { type: "plain_text", text: "New text conversation" },
    submit: { type: "plain_text", text: "Send" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "input",
        block_id: "route",
        label: { type: "plain_text", text: "Send from" },
        element: {
          type: "static_select",
          action_id: "value",
          options:
            choices.length > 0
              ? choices
              : [{ text: { type: "plain_text", text: "No two-way route" }, value: "" }],
          ...(choices[0] === undefined ? {} : { initial_option: choices[0] }),
        },
      },
      {
        type: "input",
        block_id: "phone",
        label: { type: "plain_text", text: "Phone number(s)" },
        hint: {
          type: "plain_text",
          text: "E.g. +15551234567; several, separated by commas, start a group chat.",
        },
        element: {
          type: "plain_text_input",
          action_id: "value",
          placeholder: { type: "plain_text", text: "+15551234567" },
        },
      },
      {
        type: "input",
        block_id: "message",
        label: { type: "plain_text", text: "Message" },
        element: { type: "plain_text_input", action_id: "value", multiline: true, max_length: 3000 },
      },
    ],
  };
}

/** The submitted values of the modal (`view.state.values`). */
export function readNewConversationValues(values: unknown): {
  routeName: string;
  phone: string;
  message: string;
} {
  const state = (values ?? {}) as Record<
    string,
    Record<string, { value?: unknown; selected_option?: { value?: unknown } }>
  >;
  const text = (block: string) => {
    const value = state[block]?.value?.value;
    return typeof value === "string" ? value : "";
  };
  const selected = state.route?.value?.selected_option?.value;
  return {
    routeName: typeof selected === "string" ? selected : "",
    phone: text("phone"),
    message: text("message"),
  };
}
