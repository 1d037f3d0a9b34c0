/**
 * Request-body validation against the Linq OpenAPI document, with ajv.
 *
 * The request-body schemas are taken from `openapi/linq-openapi.json` (the copy
 * shipped in this package), their `$ref`s are inlined, and every object schema
 * with declared properties is made strict (`additionalProperties: false`): an
 * unknown property is a 422, like the validation our connectors must survive.
 * A missing required property is a 400 (`Missing required parameter: …`, like
 * Rails' ParameterMissing and the documented create-chat example); any other
 * violation (type, enum, pattern, minItems, unknown property) is a 422.
 */
import { access, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import ajvFormats from "ajv-formats";
import { ConfigurationError } from "../errors.ts";
import { apiProblem } from "./simulator-errors.ts";

type JsonSchema = Record<string, unknown>;

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>
  >;
  components: { schemas: Record<string, JsonSchema> };
}

/** The request bodies the simulator validates. */
export interface RequestValidators {
  /** Create chat, reference form `{send_from, chat:{…}, message:{…}}`. */
  createChat: ValidateFunction;
  /** Create chat, quick-start form `{phone_numbers, message:{text}, phone_number}`. */
  createChatQuickStart: ValidateFunction;
  /** Send message, the multipart fields (`message[text]`, …) as an object. */
  sendMessageForm: ValidateFunction;
  /** Send message as JSON with the same fields nested: `{message:{text, idempotency_key?, attachment_urls?}}`. */
  sendMessageJson: ValidateFunction;
  /** Send message, quick-start JSON form `{text, attachment_urls?}`. */
  sendMessageQuickStart: ValidateFunction;
  editMessage: ValidateFunction;
  reactToMessage: ValidateFunction;
  contactInput: ValidateFunction;
  updatePhoneNumber: ValidateFunction;
  /** `{webhook_subscription:{…}}`. */
  webhookSubscription: ValidateFunction;
  /** The bare `{webhook_url, events, version, …}` of the quick-start guide (Rails wraps it). */
  webhookSubscriptionBare: ValidateFunction;
  checkIMessageAvailability: ValidateFunction;
}

const API_PREFIX = "/api/partner/v2";
let validatorsPromise: Promise<RequestValidators> | undefined;

/** Loads the OpenAPI document once and compiles every request-body validator. */
export function loadRequestValidators(): Promise<RequestValidators> {
  validatorsPromise ??= buildValidators().catch((error: unknown) => {
    validatorsPromise = undefined;
    throw error;
  });
  return validatorsPromise;
}

/**
 * Validates `body` and throws the API error (400 for missing parameters, 422
 * otherwise) when it does not conform.
 */
export function assertValid(validate: ValidateFunction, body: unknown): void {
  if (validate(body)) return;
  const errors = validate.errors ?? [];
  const missing = errors.filter((error) => error.keyword === "required");
  if (missing.length > 0) {
    const names = missing.map((error) => joinPath(error.instancePath, missingPropertyOf(error)));
    const code = names.some(isPhoneParameter) ? "missing_phone" : "missing_parameter";
    throw apiProblem(
      400,
      code,
      names.map((name) => `Missing required parameter: ${name}`),
    );
  }
  throw apiProblem(422, "invalid_params", uniqueLines(errors.map(describeError)));
}

/** Finds `openapi/linq-openapi.json`: two levels above this file (src/testing or dist/testing), else in an ancestor directory. */
export async function locateOpenApiDocument(): Promise<string> {
  const expected = fileURLToPath(new URL("../../openapi/linq-openapi.json", import.meta.url));
  if (await exists(expected)) return expected;
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, "openapi", "linq-openapi.json");
    if (await exists(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  throw new ConfigurationError(`Cannot find openapi/linq-openapi.json (looked first at ${expected})`);
}

async function buildValidators(): Promise<RequestValidators> {
  const document = JSON.parse(await readFile(await locateOpenApiDocument(), "utf8")) as OpenApiDocument;
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajvFormats.default(ajv);
  const compile = (schema: JsonSchema): ValidateFunction =>
    ajv.compile(strictify(inlineReferences(schema, document)));
  const body = (path: string, method: string, contentType = "application/json"): JsonSchema => {
    const schema =
      document.paths[`${API_PREFIX}${path}`]?.[method]?.requestBody?.content?.[contentType]?.schema;
    if (schema === undefined)
      throw new ConfigurationError(`The OpenAPI document has no ${contentType} body for ${method} ${path}`);
    return schema;
  };

  const createChat = body("/chats", "post");
  const referenceMessage = (createChat.properties as Record<string, JsonSchema>).message as JsonSchema;
  const referenceMessageProperties = referenceMessage.properties as Record<string, JsonSchema>;
  const sendMessageForm = body("/chats/{chat_id}/chat_messages", "post", "multipart/form-data");
  const formProperties = sendMessageForm.properties as Record<string, JsonSchema>;
  const webhookSubscription = body("/webhook_subscriptions", "post");
  const webhookInput = document.components.schemas.WebhookSubscriptionInput;
  if (webhookInput === undefined)
    throw new ConfigurationError("The OpenAPI document has no WebhookSubscriptionInput schema");

  const jsonMessage: JsonSchema = {
    type: "object",
    required: ["text"],
    properties: {
      text: formProperties["message[text]"],
      idempotency_key: formProperties["message[idempotency_key]"],
      attachment_urls: formProperties["message[attachment_urls][]"],
    },
  };

  return {
    createChat: compile(createChat),
    createChatQuickStart: compile({
      type: "object",
      required: ["phone_numbers", "message", "phone_number"],
      properties: {
        phone_numbers: { type: "array", items: { type: "string" }, minItems: 1 },
        phone_number: { type: "string" },
        message: {
          type: "object",
          required: ["text"],
          properties: {
            text: referenceMessageProperties.text,
            idempotency_key: referenceMessageProperties.idempotency_key,
            attachment_urls: referenceMessageProperties.attachment_urls,
          },
        },
      },
    }),
    sendMessageForm: compile(sendMessageForm),
    sendMessageJson: compile({ type: "object", required: ["message"], properties: { message: jsonMessage } }),
    sendMessageQuickStart: compile({
      type: "object",
      required: ["text"],
      properties: {
        text: formProperties["message[text]"],
        attachment_urls: formProperties["message[attachment_urls][]"],
      },
    }),
    editMessage: compile(body("/chats/{chat_id}/chat_messages/{id}/edit", "post")),
    reactToMessage: compile(body("/chat_messages/{chat_message_id}/reactions", "post")),
    contactInput: compile(body("/contacts", "post")),
    updatePhoneNumber: compile(body("/phone_numbers/{id}", "put")),
    webhookSubscription: compile(webhookSubscription),
    webhookSubscriptionBare: compile(webhookInput),
    checkIMessageAvailability: compile(body("/i_message_availability/check", "post")),
  };
}

/** Replaces every `{$ref: "#/components/schemas/X"}` with (a copy of) the schema. */
function inlineReferences(schema: unknown, document: OpenApiDocument, depth = 0): JsonSchema {
  if (depth > 32) throw new ConfigurationError("The OpenAPI document has recursive $refs");
  return mapSchema(schema, (node) => {
    const reference = node.$ref;
    if (typeof reference !== "string") return undefined;
    const name = /^#\/components\/schemas\/(.+)$/.exec(reference)?.[1];
    const target = name === undefined ? undefined : document.components.schemas[name];
    if (target === undefined) throw new ConfigurationError(`Unresolvable $ref ${reference}`);
    return inlineReferences(target, document, depth + 1);
  }) as JsonSchema;
}

/** Adds `additionalProperties: false` to every object schema that declares properties. */
function strictify(schema: JsonSchema): JsonSchema {
  return mapSchema(schema, (node) => {
    if (node.properties === undefined || node.additionalProperties !== undefined) return undefined;
    const properties = Object.fromEntries(
      Object.entries(node.properties as Record<string, unknown>).map(([key, value]) => [
        key,
        strictify(value as JsonSchema),
      ]),
    );
    return { ...mapChildren(node, strictify), properties, additionalProperties: false };
  }) as JsonSchema;
}

/** Deep-copies a schema, letting `replace` substitute any node (return undefined to keep it). */
function mapSchema(node: unknown, replace: (node: JsonSchema) => JsonSchema | undefined): unknown {
  if (Array.isArray(node)) return node.map((item) => mapSchema(item, replace));
  if (node === null || typeof node !== "object") return node;
  const replaced = replace(node as JsonSchema);
  if (replaced !== undefined) return replaced;
  const copy: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) copy[key] = mapSchema(value, replace);
  return copy;
}

function mapChildren(node: JsonSchema, transform: (schema: JsonSchema) => JsonSchema): JsonSchema {
  const copy: JsonSchema = { ...node };
  if (node.items !== undefined && typeof node.items === "object")
    copy.items = transform(node.items as JsonSchema);
  return copy;
}

function describeError(error: ErrorObject): string {
  const path = joinPath(error.instancePath);
  switch (error.keyword) {
    case "additionalProperties":
      return `Unknown parameter: ${joinPath(error.instancePath, String(error.params.additionalProperty))}`;
    case "enum":
      return `${path} must be one of: ${(error.params.allowedValues as unknown[]).map(String).join(", ")}`;
    case "pattern":
      return path.endsWith("idempotency_key") || path.endsWith("idempotency_key]")
        ? `${path} must be alphanumeric and may include hyphens and underscores`
        : `${path} must match ${String(error.params.pattern)}`;
    default:
      return `${path} ${error.message ?? "is invalid"}`;
  }
}

function missingPropertyOf(error: ErrorObject): string {
  return String(error.params.missingProperty);
}

/** `/chat/phone_numbers/0` (+ `extra`) → `chat.phone_numbers[0]`; the root is `body`. */
function joinPath(instancePath: string, extra?: string): string {
  const segments = instancePath
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra !== undefined) segments.push(extra);
  if (segments.length === 0) return "body";
  let path = "";
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) path += `[${segment}]`;
    else path += path === "" ? segment : `.${segment}`;
  }
  return path;
}

function isPhoneParameter(name: string): boolean {
  return /(^|\.)(send_from|phone_number|phone_numbers)$/.test(name);
}

function uniqueLines(lines: string[]): string[] {
  return [...new Set(lines)];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
