/**
 * `@linq-connect/salesforce/testing`: the Salesforce simulator, a stateful fake
 * of the Salesforce REST API, OAuth token endpoint and Bulk API 2.0 served over
 * real HTTP, for connector tests and the sandbox. Start one with
 * {@link startSalesforceSimulator}.
 */
export { startSalesforceSimulator } from "./salesforce-simulator.ts";
export { SalesforceRecordError } from "./simulator-errors.ts";
export { idChecksum, normalizeId as normalizeSalesforceId, toId18 } from "./simulator-ids.ts";
export type {
  BulkJobState,
  CustomFieldDefinition,
  CustomFieldType,
  PicklistDefinition,
  SalesforceBulkJob,
  SalesforceDeletedRecord,
  SalesforceFaultHandle,
  SalesforceFaultKind,
  SalesforceFaultRule,
  SalesforceFieldValue,
  SalesforceLeadConversion,
  SalesforceLeadConversionOptions,
  SalesforceRecord,
  SalesforceRecordedRequest,
  SalesforceSimulator,
  SalesforceSimulatorFaults,
  SalesforceSimulatorOptions,
  SalesforceSimulatorState,
  SalesforceSimulatorUser,
  SalesforceSimulatorUserInput,
  SalesforceSimulatorUsers,
  SalesforceStandardObject,
} from "./simulator-types.ts";
