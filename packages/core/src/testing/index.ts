/**
 * `@linq-connect/core/testing`: the Linq simulator, a stateful fake of the Linq
 * Partner API v2 served over real HTTP, for contract tests, connector tests,
 * sandbox mode and benchmarks. Start one with {@link startLinqSimulator}.
 */

export {
  type ConnectorTestHost,
  type ConnectorTestHostOptions,
  type ConnectorTestHostRequest,
  type DeadLetter,
  JobRunner,
  type LogEntry,
  linqEvent,
  linqEventOrderingKey,
  MemoryMappingStore,
  memoryLogger,
  startConnectorTestHost,
  type WorkItem,
} from "./connector-test-host.ts";
export {
  type BaseFaultRule,
  type InjectedFault,
  matchesMethodAndPath,
  SimulatorFaultRegistry,
  type SimulatorFaultRegistryOptions,
} from "./fault-registry.ts";
export { startLinqSimulator } from "./linq-simulator.ts";
export {
  closeSimulatorServer,
  createSimulatorServer,
  listenSimulatorServer,
  type RequestBody,
  readSimulatorRequestBody,
} from "./simulator-http.ts";
export type {
  CallRecord,
  DeliveryStatus,
  FaultHandle,
  FaultKind,
  FaultRule,
  InboundTextInput,
  LinqSimulator,
  LinqSimulatorOptions,
  LinqWebhookEventType,
  MessagingService,
  ReactionType,
  RecordedRequest,
  SimulatorAttachment,
  SimulatorChat,
  SimulatorChatHandle,
  SimulatorChatMessage,
  SimulatorContact,
  SimulatorContactOwner,
  SimulatorFaults,
  SimulatorInbound,
  SimulatorOrganizationUser,
  SimulatorPhoneNumber,
  SimulatorReaction,
  SimulatorStateView,
  SimulatorTypingState,
  SimulatorWebhookSubscription,
  SimulatorWebhooks,
  WebhookDeliveryConfiguration,
  WebhookDeliveryRecord,
} from "./simulator-types.ts";
