import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type EventSource = "linq" | "slack" | "hubspot" | "salesforce";

/** Queue depth per connector, read at scrape time. */
export type QueueDepthReader = () => Promise<
  Record<string, { queued: number; active: number; retry: number }>
>;

/**
 * The service's Prometheus metrics (`GET /metrics`). One registry per service instance, so tests and
 * several instances in one process do not share counters.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly eventsReceived: Counter<"source" | "event_type">;
  readonly eventsDeduplicated: Counter<"source">;
  readonly eventsRejected: Counter<"source" | "reason">;
  readonly eventsSkipped: Counter<"reason">;
  readonly jobsProcessed: Counter<"connector">;
  readonly jobsFailed: Counter<"connector">;
  readonly jobsRetried: Counter<"connector">;
  readonly jobsDead: Counter<"connector">;
  readonly jobDuration: Histogram<"connector" | "outcome">;
  readonly eventToHandlerLatency: Histogram<"connector">;
  readonly upstreamRequests: Counter<"service" | "status">;
  readonly queueDepth: Gauge<"connector" | "state">;
  private readQueueDepth: QueueDepthReader | undefined;

  constructor(options: { defaultMetrics?: boolean; readQueueDepth?: QueueDepthReader } = {}) {
    const registers = [this.registry];
    this.eventsReceived = new Counter({
      name: "linq_sync_events_received_total",
      help: "Webhook events accepted (verified and parsed), by source and event type",
      labelNames: ["source", "event_type"],
      registers,
    });
    this.eventsDeduplicated = new Counter({
      name: "linq_sync_events_deduplicated_total",
      help: "Webhook events acknowledged without effect because their id was seen before",
      labelNames: ["source"],
      registers,
    });
    this.eventsRejected = new Counter({
      name: "linq_sync_events_rejected_total",
      help: "Webhook requests rejected, by source and reason (signature, payload, too_large, content_type, method)",
      labelNames: ["source", "reason"],
      registers,
    });
    this.eventsSkipped = new Counter({
      name: "linq_sync_events_skipped_total",
      help: "Accepted events recorded but routed to no connector, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.jobsProcessed = new Counter({
      name: "linq_sync_jobs_processed_total",
      help: "Jobs completed successfully, by connector",
      labelNames: ["connector"],
      registers,
    });
    this.jobsFailed = new Counter({
      name: "linq_sync_jobs_failed_total",
      help: "Job attempts that threw, by connector",
      labelNames: ["connector"],
      registers,
    });
    this.jobsRetried = new Counter({
      name: "linq_sync_jobs_retried_total",
      help: "Job attempts that will be retried, by connector",
      labelNames: ["connector"],
      registers,
    });
    this.jobsDead = new Counter({
      name: "linq_sync_jobs_dead_total",
      help: "Jobs moved to the dead-letter queue, by connector",
      labelNames: ["connector"],
      registers,
    });
    this.jobDuration = new Histogram({
      name: "linq_sync_job_duration_seconds",
      help: "Time a job's handler ran, by connector and outcome",
      labelNames: ["connector", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.eventToHandlerLatency = new Histogram({
      name: "linq_sync_event_to_handler_seconds",
      help: "Time from webhook receipt to the start of the connector's handler, by connector",
      labelNames: ["connector"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.upstreamRequests = new Counter({
      name: "linq_sync_upstream_requests_total",
      help: "Requests to upstream services, by service and HTTP status (or 'error' without one)",
      labelNames: ["service", "status"],
      registers,
    });
    this.readQueueDepth = options.readQueueDepth;
    const metrics = this;
    this.queueDepth = new Gauge({
      name: "linq_sync_queue_depth",
      help: "Jobs waiting (queued, retry) or running (active), by connector",
      labelNames: ["connector", "state"],
      registers,
      async collect() {
        const reader = metrics.readQueueDepth;
        if (reader === undefined) return;
        this.reset();
        const depth = await reader();
        for (const [connector, counts] of Object.entries(depth)) {
          this.set({ connector, state: "queued" }, counts.queued);
          this.set({ connector, state: "active" }, counts.active);
          this.set({ connector, state: "retry" }, counts.retry);
        }
      },
    });
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: "linq_sync_" });
  }

  /** Where the queue depth gauge reads from (set by the application once its queue runs). */
  setQueueDepthReader(reader: QueueDepthReader): void {
    this.readQueueDepth = reader;
  }

  /** Counts one upstream request; pass to `LinqClient`'s `onRequestComplete` and the connectors' hooks. */
  recordUpstream(service: string, status: number | undefined): void {
    this.upstreamRequests.inc({ service, status: status === undefined ? "error" : String(status) });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
