export {
  defaultSalesforceFieldMappings,
  type LinqContactField,
  type LinqContactFields,
  linqContactToSalesforceFields,
  type SalesforceFieldMapping,
  type SalesforceObjectName,
  type SalesforceRecordOptions,
} from "./field-mapping.ts";
