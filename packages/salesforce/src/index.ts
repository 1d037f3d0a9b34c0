export {
  BACKFILL_CURSOR,
  type BackfillSalesforceOptions,
  backfillSalesforce,
  type SalesforceBackfillCounts,
  type SalesforceBackfillProgress,
  type SalesforceBackfillSummary,
} from "./backfill.ts";
export {
  defaultSalesforceFieldMappings,
  type LinqContactField,
  type LinqContactFields,
  linqContactToSalesforceFields,
  type SalesforceFieldMapping,
  type SalesforceObjectName,
  type SalesforceRecordOptions,
} from "./field-mapping.ts";
export { checkSalesforceHealth } from "./health-check.ts";
export {
  CALL_MAPPING,
  CONTACT_MAPPING,
  DIGEST_MAPPING,
  deletedCursorName,
  HANDLE_MAPPING,
  pollCursorName,
  TASK_MAPPING,
} from "./mappings.ts";
export { RECORD_CHANGED_JOB } from "./polling.ts";
export {
  createJwtAssertion,
  createSalesforceConnection,
  escapeSoql,
  escapeSosl,
  SalesforceApi,
  type SalesforceApiUsage,
  type SalesforceRecord,
  type SalesforceRequestInfo,
  type SaveResult,
} from "./salesforce-api.ts";
export {
  createSalesforceConnector,
  type SalesforceConnector,
  type SalesforceConnectorOptions,
} from "./salesforce-connector.ts";
export {
  errorFromEntries,
  SalesforceDuplicateError,
  SalesforceRequestLimitError,
  toSalesforceError,
} from "./salesforce-errors.ts";
export {
  type ActivitySyncMode,
  type ContactSyncMode,
  type LinqContactDeletedAction,
  linqContactFields,
  type SalesforceJwtSettings,
  type SalesforceRouteSettings,
  type SalesforceRouteSettingsInput,
  validateSalesforceRouteSettings,
} from "./settings.ts";
