export {
  type LinqErrorResponseInput,
  linqErrorFromResponse,
  type ParsedLinqErrorBody,
  parseLinqErrorBody,
  type ResponseHeadersInput,
} from "./error-parsing.ts";
export { isRepeatableOperation, LinqClient, type LinqClientOptions } from "./linq-client.ts";
export { DEFAULT_MAX_UPLOAD_BYTES } from "./multipart.ts";
export {
  backoffDelay,
  RETRYABLE_STATUSES,
  type RetryOptions,
  type RetryPolicy,
  resolveRetryPolicy,
} from "./retry-policy.ts";
export type { SleepFunction } from "./sleep.ts";
export { TokenBucket, type TokenBucketOptions } from "./token-bucket.ts";
export type * from "./types.ts";
