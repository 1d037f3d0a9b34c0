/**
 * `@linq-connect/hubspot/testing`: the HubSpot simulator, a stateful fake of the HubSpot CRM APIs a
 * private app uses, served over real HTTP for `@hubspot/api-client` (`basePath: simulator.baseUrl`).
 * Start one with {@link startHubSpotSimulator}.
 */
export { startHubSpotSimulator } from "./hubspot-simulator.ts";
export {
  hubSpotSignatureUri,
  signHubSpotWebhookV1,
  signHubSpotWebhookV3,
} from "./simulator-signature.ts";
export type {
  HubSpotAssociationType,
  HubSpotCrmActor,
  HubSpotFaultHandle,
  HubSpotFaultKind,
  HubSpotFaultRule,
  HubSpotObjectType,
  HubSpotPropertyOption,
  HubSpotRateLimitOptions,
  HubSpotRecordedRequest,
  HubSpotSimulator,
  HubSpotSimulatorAssociation,
  HubSpotSimulatorCrm,
  HubSpotSimulatorFaults,
  HubSpotSimulatorObject,
  HubSpotSimulatorOptions,
  HubSpotSimulatorOwner,
  HubSpotSimulatorOwnerInput,
  HubSpotSimulatorProperty,
  HubSpotSimulatorStateView,
  HubSpotSimulatorWebhooks,
  HubSpotSubscriptionType,
  HubSpotWebhookConfiguration,
  HubSpotWebhookDelivery,
  HubSpotWebhookEvent,
  HubSpotWebhookSubscription,
  HubSpotWebhookSubscriptionInput,
} from "./simulator-types.ts";
