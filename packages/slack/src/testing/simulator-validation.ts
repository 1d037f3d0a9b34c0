/**
 * Validation of Block Kit payloads and modal views, with Slack's error lines
 * (`[ERROR] <problem> [json-pointer:/blocks/0/text]`) for
 * `response_metadata.messages`. It checks the structure Slack rejects most
 * often (types, required fields, lengths, counts, duplicate block ids); it is
 * not a complete Block Kit schema.
 */
import { z } from "zod";

const MESSAGE_BLOCK_TYPES = new Set([
  "section",
  "divider",
  "image",
  "actions",
  "context",
  "header",
  "rich_text",
  "file",
  "video",
  "markdown",
  "table",
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function textObject(
  value: unknown,
  pointer: string,
  options: { plainOnly?: boolean; maxLength: number },
  problems: string[],
): void {
  if (!isObject(value)) {
    problems.push(`[ERROR] must be an object [json-pointer:${pointer}]`);
    return;
  }
  const allowed = options.plainOnly === true ? ["plain_text"] : ["plain_text", "mrkdwn"];
  if (typeof value.type !== "string" || !allowed.includes(value.type)) {
    problems.push(`[ERROR] must be one of [${allowed.join(", ")}] [json-pointer:${pointer}/type]`);
  }
  if (typeof value.text !== "string" || value.text === "") {
    problems.push(`[ERROR] missing required field: text [json-pointer:${pointer}]`);
  } else if (value.text.length > options.maxLength) {
    problems.push(
      `[ERROR] must be less than ${options.maxLength + 1} characters [json-pointer:${pointer}/text]`,
    );
  }
}

/** Problems with a `blocks` array (empty when it is acceptable). */
export function validateBlocks(
  blocks: unknown[],
  options: { pointer: string; surface: "message" | "modal" },
): string[] {
  const problems: string[] = [];
  const limit = options.surface === "message" ? 50 : 100;
  if (blocks.length > limit) {
    problems.push(`[ERROR] no more than ${limit} items allowed [json-pointer:${options.pointer}]`);
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, index) => {
    const pointer = `${options.pointer}/${index}`;
    if (!isObject(block)) {
      problems.push(`[ERROR] must be an object [json-pointer:${pointer}]`);
      return;
    }
    const type = block.type;
    const allowed = type === "input" ? options.surface === "modal" : MESSAGE_BLOCK_TYPES.has(String(type));
    if (typeof type !== "string" || !allowed) {
      problems.push(`[ERROR] unsupported type: ${String(type)} [json-pointer:${pointer}/type]`);
      return;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== "string" || block.block_id.length > 255) {
        problems.push(`[ERROR] must be less than 256 characters [json-pointer:${pointer}/block_id]`);
      } else if (blockIds.has(block.block_id)) {
        problems.push(`[ERROR] duplicate block_id [json-pointer:${pointer}/block_id]`);
      } else {
        blockIds.add(block.block_id);
      }
    }
    switch (type) {
      case "section":
        if (block.text === undefined && block.fields === undefined) {
          problems.push(`[ERROR] must provide either text or fields [json-pointer:${pointer}]`);
        }
        if (block.text !== undefined)
          textObject(block.text, `${pointer}/text`, { maxLength: 3000 }, problems);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) {
            problems.push(`[ERROR] must be an array [json-pointer:${pointer}/fields]`);
          } else {
            if (block.fields.length > 10) {
              problems.push(`[ERROR] no more than 10 items allowed [json-pointer:${pointer}/fields]`);
            }
            block.fields.forEach((field, fieldIndex) => {
              textObject(field, `${pointer}/fields/${fieldIndex}`, { maxLength: 2000 }, problems);
            });
          }
        }
        break;
      case "header":
        textObject(block.text, `${pointer}/text`, { plainOnly: true, maxLength: 150 }, problems);
        break;
      case "context":
      case "actions": {
        const max = type === "context" ? 10 : 25;
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          problems.push(`[ERROR] missing required field: elements [json-pointer:${pointer}]`);
        } else if (block.elements.length > max) {
          problems.push(`[ERROR] no more than ${max} items allowed [json-pointer:${pointer}/elements]`);
        }
        break;
      }
      case "image":
        if (typeof block.image_url !== "string" && !isObject(block.slack_file)) {
          problems.push(`[ERROR] missing required field: image_url [json-pointer:${pointer}]`);
        }
        if (typeof block.alt_text !== "string") {
          problems.push(`[ERROR] missing required field: alt_text [json-pointer:${pointer}]`);
        }
        break;
      case "rich_text":
        if (!Array.isArray(block.elements)) {
          problems.push(`[ERROR] missing required field: elements [json-pointer:${pointer}]`);
        }
        break;
      case "markdown":
        if (typeof block.text !== "string" || block.text === "") {
          problems.push(`[ERROR] missing required field: text [json-pointer:${pointer}]`);
        }
        break;
      case "input":
        textObject(block.label, `${pointer}/label`, { plainOnly: true, maxLength: 2000 }, problems);
        if (!isObject(block.element)) {
          problems.push(`[ERROR] missing required field: element [json-pointer:${pointer}]`);
        }
        break;
      default:
        break;
    }
  });
  return problems;
}

/** Problems with a modal view for views.open / views.update (empty when acceptable). */
export function validateModalView(view: unknown): string[] {
  if (!isObject(view)) return ["[ERROR] must be an object [json-pointer:/view]"];
  const problems: string[] = [];
  if (view.type === undefined) problems.push("[ERROR] missing required field: type [json-pointer:/view]");
  else if (view.type !== "modal") problems.push("[ERROR] must be one of [modal] [json-pointer:/view/type]");
  if (view.title === undefined) problems.push("[ERROR] missing required field: title [json-pointer:/view]");
  else textObject(view.title, "/view/title", { plainOnly: true, maxLength: 24 }, problems);
  for (const button of ["submit", "close"] as const) {
    if (view[button] !== undefined && view[button] !== null) {
      textObject(view[button], `/view/${button}`, { plainOnly: true, maxLength: 24 }, problems);
    }
  }
  if (!Array.isArray(view.blocks)) {
    problems.push("[ERROR] missing required field: blocks [json-pointer:/view]");
  } else {
    problems.push(...validateBlocks(view.blocks, { pointer: "/view/blocks", surface: "modal" }));
    const hasInput = view.blocks.some((block) => isObject(block) && block.type === "input");
    if (hasInput && (view.submit === undefined || view.submit === null)) {
      problems.push("[ERROR] must provide submit when using input blocks [json-pointer:/view/submit]");
    }
  }
  const limits: [name: string, max: number][] = [
    ["private_metadata", 3000],
    ["callback_id", 255],
    ["external_id", 255],
  ];
  for (const [name, max] of limits) {
    const value = view[name];
    if (value === undefined) continue;
    if (typeof value !== "string") problems.push(`[ERROR] must be a string [json-pointer:/view/${name}]`);
    else if (value.length > max) {
      problems.push(`[ERROR] must be less than ${max + 1} characters [json-pointer:/view/${name}]`);
    }
  }
  return problems;
}

/** `metadata` of chat.postMessage / chat.update. */
export const messageMetadataSchema = z.object({
  event_type: z.string().min(1),
  event_payload: z.record(z.string(), z.unknown()),
});

/** The `files` argument of files.completeUploadExternal. */
export const completeUploadFilesSchema = z
  .array(z.object({ id: z.string().min(1), title: z.string().optional() }))
  .min(1);

/** A message posted to a response URL. */
export const responseUrlBodySchema = z.object({
  text: z.string().optional(),
  blocks: z.array(z.unknown()).optional(),
  attachments: z.array(z.unknown()).optional(),
  response_type: z.enum(["ephemeral", "in_channel"]).optional(),
  replace_original: z.union([z.boolean(), z.enum(["true", "false"])]).optional(),
  delete_original: z.union([z.boolean(), z.enum(["true", "false"])]).optional(),
  thread_ts: z.string().optional(),
  mrkdwn: z.boolean().optional(),
});
