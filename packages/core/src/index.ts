export * from "./client/index.ts";
export * from "./connector.ts";
export * from "./crm-sync/index.ts";
export * from "./errors.ts";
export { type LinqOperationName, linqOperations } from "./generated/operations.generated.ts";
export * from "./phone/index.ts";
export * from "./webhooks/index.ts";
