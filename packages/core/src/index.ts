export * from "./connector.ts";
export * from "./errors.ts";
export { type LinqOperationName, linqOperations } from "./generated/operations.generated.ts";
