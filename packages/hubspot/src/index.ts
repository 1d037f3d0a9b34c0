export {
  BACKFILL_CURSOR,
  type BackfillHubSpotOptions,
  backfillHubSpot,
  type HubSpotBackfillCounts,
  type HubSpotBackfillProgress,
  type HubSpotBackfillSummary,
} from "./backfill.ts";
export {
  defaultHubSpotFieldMapping,
  type HubSpotFieldMapping,
  hubSpotPropertiesToLinqContact,
  type LinqContactField,
  type LinqContactFields,
  linqContactFields,
  linqContactToHubSpotProperties,
  mappedHubSpotProperties,
  resolveHubSpotFieldMapping,
} from "./field-mapping.ts";
export {
  createHubSpotClient,
  HubSpotApi,
  type HubSpotRecord,
  type HubSpotRequestInfo,
} from "./hubspot-api.ts";
export {
  createHubSpotConnector,
  type HubSpotConnector,
  type HubSpotConnectorOptions,
} from "./hubspot-connector.ts";
export {
  HubSpotContactExistsError,
  HubSpotIndexLagError,
  HubSpotMissingScopesError,
  HubSpotRateLimitError,
  type HubSpotRateLimitPolicy,
  toHubSpotError,
} from "./hubspot-errors.ts";
export {
  CONTACT_CHANGED_JOB,
  hubSpotSignatureV3,
  verifyHubSpotSignatureV3,
} from "./hubspot-webhooks.ts";
export {
  ACTIVITY_MAPPING,
  CALL_MAPPING,
  CONTACT_MAPPING,
  DIGEST_MAPPING,
  HANDLE_MAPPING,
} from "./mappings.ts";
export { HubSpotRateLimiter, sharedHubSpotRateLimiter } from "./rate-limiter.ts";
export { RECONCILIATION_CURSOR } from "./reconciliation.ts";
export {
  type ActivitySyncMode,
  type ContactSyncMode,
  type HubSpotChannelType,
  type HubSpotRateLimitSettings,
  type HubSpotRouteSettings,
  type HubSpotRouteSettingsInput,
  hubSpotChannelTypes,
  type LinqContactDeletedAction,
  validateHubSpotRouteSettings,
} from "./settings.ts";
