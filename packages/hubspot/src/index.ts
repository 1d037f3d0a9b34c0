export {
  defaultHubSpotFieldMapping,
  type HubSpotFieldMapping,
  hubSpotPropertiesToLinqContact,
  type LinqContactField,
  type LinqContactFields,
  linqContactToHubSpotProperties,
  resolveHubSpotFieldMapping,
} from "./field-mapping.ts";
