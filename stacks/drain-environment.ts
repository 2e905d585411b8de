/**
 * The environment the drain reads (functions/drain/settings.ts), from the stack's config and
 * resources. Pure and free of cdktf: the stack passes Terraform references, `spigot agent` passes
 * the resolved values, and both get the same variables.
 */
import type { DrainConfig, MetricsSink } from './config';
import { drainFunctionName } from './resource-names';

/** The metric namespace the drain writes (EMF or PutMetricData) and the alarms read. */
export const METRICS_NAMESPACE = 'Spigot';

export interface DrainEnvironmentInputs {
  /** The stack's name. */
  readonly name: string;
  readonly jenkinsUrl: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly leaseQueueUrl: string;
  readonly spigotParameterName: string;
  readonly drainStatusParameterName: string;
  readonly drain: DrainConfig;
  /** Statuses that never count toward a systemic close (stacks/source-policy.ts). @default [] */
  readonly untrustedRefusalStatuses?: readonly string[];
}

/** Every variable the drain Lambda gets. */
export function drainEnvironment(i: DrainEnvironmentInputs): Record<string, string> {
  const d = i.drain;
  return {
    JENKINS_URL: i.jenkinsUrl,
    LEASE_QUEUE_URL: i.leaseQueueUrl,
    QUEUE_URL: i.queueUrl,
    DLQ_URL: i.deadLetterQueueUrl,
    SPIGOT_PARAMETER_NAME: i.spigotParameterName,
    DRAIN_STATUS_PARAMETER_NAME: i.drainStatusParameterName,
    CONCURRENCY: String(d.concurrency),
    HTTP_TIMEOUT_MS: String(d.httpTimeoutMs),
    MAX_ATTEMPTS: String(d.maxAttempts),
    AUTO_CLOSE_AFTER_FAILURES: String(d.autoCloseAfterFailures),
    REFUSALS_AFTER_WEBHOOKS: String(d.refusals.afterWebhooks),
    REFUSALS_FROM_REPOSITORIES: String(d.refusals.fromRepositories),
    // "none": every refusal is dead-lettered at once (an empty variable would mean the default).
    REFUSAL_STATUSES: d.refusals.statuses.length > 0 ? d.refusals.statuses.join(',') : 'none',
    ...(i.untrustedRefusalStatuses?.length ? { REFUSALS_UNTRUSTED_STATUSES: i.untrustedRefusalStatuses.join(',') } : {}),
    HOLD_SECONDS: String(d.hold.defaultSeconds),
    MIN_HOLD_SECONDS: String(d.hold.minSeconds),
    MAX_HOLD_SECONDS: String(d.hold.maxSeconds),
    PROBE_PATH: d.probe.path,
    PROBE_METHOD: d.probe.method,
    PROBE_EXPECT_STATUS: d.probe.expectStatus.join(','),
    PROBE_TIMEOUT_MS: String(d.probe.timeoutMs),
    LOG_LEVEL: d.logLevel,
    MAX_RUN_SECONDS: String(maxRunSeconds(d.schedule, d.timeoutSeconds)),
    POWERTOOLS_SERVICE_NAME: drainFunctionName(i.name),
    METRICS_NAMESPACE,
    METRICS_STACK: i.name,
    ...(d.ratePerSecond ? { RATE_PER_SECOND: String(d.ratePerSecond) } : {}),
    ...(d.autoReopenAfterHealthyProbes ? { AUTO_REOPEN_AFTER_HEALTHY_PROBES: String(d.autoReopenAfterHealthyProbes) } : {}),
    // Names only: the drain reads the SecureStrings itself.
    ...(d.credentialsParameterName ? { JENKINS_CREDENTIALS_PARAMETER: d.credentialsParameterName } : {}),
    ...(d.webhookSecretParameterName ? { WEBHOOK_SECRET_PARAMETER: d.webhookSecretParameterName } : {}),
  };
}

/** The agent's sink when drain.agent does not choose one: it works wherever the agent's stdout goes. */
export const DEFAULT_AGENT_METRICS_SINK: MetricsSink = 'cloudwatch';

/** The agent's variables: the drain's, plus what Lambda would have provided (the region) and its metrics sink. */
export function agentEnvironment(drain: Record<string, string>, region: string, config: DrainConfig): Record<string, string> {
  return { ...drain, AWS_REGION: region, METRICS_SINK: config.agent?.metricsSink ?? DEFAULT_AGENT_METRICS_SINK };
}

/**
 * How long one run keeps receiving: until just before the next scheduled run, so runs tile
 * the schedule and a webhook arriving while the spigot is open is released within seconds.
 * Never beyond what the Lambda timeout leaves for finishing the last webhooks.
 */
export function maxRunSeconds(schedule: string, timeoutSeconds: number): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  const unit = rate ? { minute: 60, hour: 3600, day: 86400 }[rate[2].replace(/s$/, '') as 'minute' | 'hour' | 'day'] : 60;
  const period = rate ? Number(rate[1]) * unit : 60; // cron schedules: assume about a minute apart
  return Math.max(10, Math.min(period - 5, timeoutSeconds - 60));
}
