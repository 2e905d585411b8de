/**
 * Everything one drain process needs, built once from its environment: settings, the logger,
 * the SDK clients, what outlives a run (secrets cache, sender trust, memory), and one `run`
 * that takes the run lease, drains, publishes metrics and records the run. The Lambda handler
 * and the long-running agent are thin loops around it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BufferQueueClient } from './adapters/buffer-queue';
import { JenkinsClient } from './adapters/jenkins-client';
import { RunLease, leaseSettings } from './adapters/run-lease';
import { SpigotSwitch, readSecret } from './adapters/spigot-switch';
import { StdoutBatches } from './adapters/stdout-batches';
import { SenderTrust } from './core/sender-trust';
import { statusWorthWriting, type WrittenStatus } from './core/status-record';
import { lastRunRecord, probeJenkins, runDrain, type DrainResult, type DrainSecrets, type DrainTrigger } from './drain';
import type { CloudWatchMetrics, MetricsPublisher } from './adapters/cloudwatch-metrics';
import { publishMetrics, type MetricValues } from './metrics';
import type { DrainMemory, ReleaseLog } from './release';
import { readSettings, type DrainSettings } from './settings';
import { errorMessage } from '../shared/error-message';
import { parseWebhookSecrets } from '../shared/webhook-secrets';

/** A run that found another run holding the lease: it did nothing, so it records nothing. */
export interface SkippedRun {
  readonly skipped: true;
  readonly reason: string;
}

export interface ProbeOnlyResult {
  readonly probeOnly: true;
  readonly healthy: boolean;
  readonly reason?: string;
  readonly probe: string;
  readonly durationMs: number;
}

export interface RunOptions {
  /** Milliseconds left before this run must have finished (Lambda's remaining time). */
  readonly remainingMs: () => number;
  /** A long-running entry point shutting down: stop as if the spigot closed. */
  readonly stopRequested?: () => boolean;
}

export interface DrainRuntime {
  readonly settings: DrainSettings;
  readonly log: ReleaseLog;
  run(trigger: DrainTrigger, options: RunOptions): Promise<DrainResult | SkippedRun>;
  probeOnly(): Promise<ProbeOnlyResult>;
  /** Sends metrics still held, then frees sockets so a process can exit. */
  close(): Promise<void>;
}

// Calls are bounded: a stalled connection must not hold the run past its time budget.
const AWS_CALL_LIMITS = { connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true };
const SECRET_TTL_MS = 5 * 60 * 1000;

/** EMF lines on stdout, or PutMetricData (its SDK client loaded only then, so the Lambda's start stays as it was). */
function metricsPublisher(settings: DrainSettings, log: ReleaseLog): MetricsPublisher & { close(): void } {
  if (settings.metricsSink === 'emf') {
    return { publish: (values) => publishMetrics(settings.metricsNamespace, settings.metricsStack, values), flush: async () => {}, close: () => {} };
  }
  const { CloudWatchClient } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  const { CloudWatchMetrics: Publisher } = require('./adapters/cloudwatch-metrics') as { CloudWatchMetrics: typeof CloudWatchMetrics };
  const client = new CloudWatchClient({ requestHandler: AWS_CALL_LIMITS });
  const publisher = new Publisher(client, settings.metricsNamespace, settings.metricsStack, log, settings.metricsFlushMs);
  return { publish: (values) => publisher.publish(values), flush: () => publisher.flush(), close: () => client.destroy() };
}

export function createDrainRuntime(env: Record<string, string | undefined> = process.env): DrainRuntime {
  // Read once: a bad environment fails here, loudly, before any message moves.
  const settings = readSettings(env);
  const logger = new Logger({ serviceName: `${settings.metricsStack}-drain`, logLevel: settings.logLevel });
  // A line per webhook, written out every 50 ms and at the end of each run rather than one write each.
  const logLines = new StdoutBatches();
  /** The one structured logger. Fields never include bodies or secrets. */
  const log: ReleaseLog = {
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
  };
  // Default credential, region and endpoint chain: AWS_ENDPOINT_URL_SQS/SSM point these at emulators.
  // The configured endpoint wins over the queue URL's host: identical on AWS, and what makes
  // AWS_ENDPOINT_URL_SQS work with emulators whose queue URLs name unresolvable hosts.
  // md5: false skips the SDK's MD5 check of every message body received or sent: TLS already
  // guarantees the bytes arrive as SQS sent them, so it only cost CPU (about 0.06 ms a webhook).
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, requestHandler: AWS_CALL_LIMITS, md5: false });
  const ssm = new SSMClient({ requestHandler: AWS_CALL_LIMITS });
  const queue = new BufferQueueClient(sqs, settings.queueUrl, settings.deadLetterQueueUrl);
  const spigot = new SpigotSwitch(ssm, settings.spigotParameterName);
  const jenkins = new JenkinsClient(settings.jenkinsUrl, settings.concurrency);
  const metrics = metricsPublisher(settings, log);
  const leaseConfig = leaseSettings(env);
  const lease = leaseConfig.queueUrl ? new RunLease(sqs, leaseConfig.queueUrl) : undefined;
  // Outlive a run: which repositories the secret verified, when Jenkins last accepted a webhook.
  const senders = new SenderTrust();
  const memory: DrainMemory = {};
  let cachedSecrets: { value: DrainSecrets; at: number } | undefined;

  /** Read lazily and cached briefly, so a rotated token is picked up within minutes. */
  async function secrets(): Promise<DrainSecrets> {
    if (cachedSecrets && Date.now() - cachedSecrets.at < SECRET_TTL_MS) return cachedSecrets.value;
    const value: DrainSecrets = {
      jenkinsCredentials: settings.credentialsParameterName ? await readSecret(ssm, settings.credentialsParameterName) : undefined,
      webhookSecrets: settings.webhookSecretParameterName ? parseWebhookSecrets(await readSecret(ssm, settings.webhookSecretParameterName)) : undefined,
    };
    cachedSecrets = { value, at: Date.now() };
    return value;
  }

  /** `spigot status` reads the last run from this parameter; failing to write it never fails the run. */
  let lastStatus: WrittenStatus | undefined;
  async function recordLastRun(trigger: DrainTrigger, result: DrainResult): Promise<void> {
    if (!settings.drainStatusParameterName) return;
    const now = Date.now();
    const record = lastRunRecord(trigger, result, new Date(now));
    if (!statusWorthWriting(lastStatus, record, now)) return;
    try {
      await ssm.send(new PutParameterCommand({
        Name: settings.drainStatusParameterName,
        Type: 'String',
        Overwrite: true,
        Value: JSON.stringify(record),
      }));
      lastStatus = { record, at: now };
    } catch (error) {
      log.warn('could not record the drain status parameter', { error: errorMessage(error) });
    }
  }

  async function drainOnce(trigger: DrainTrigger, options: RunOptions): Promise<DrainResult> {
    const callsBefore = queue.calls;
    let result: DrainResult;
    try {
      result = await runDrain(
        { settings, queue, spigot, jenkins, secrets, senders, memory, log, remainingMs: options.remainingMs, stopRequested: options.stopRequested },
        trigger,
      );
    } catch (error) {
      log.error('drain run failed', { error: errorMessage(error) });
      throw error;
    }
    const s = result.stats;
    metrics.publish({
      // Every run that got the lease, open or closed: the agent's heartbeat (alarm agent-heartbeat-missing).
      Runs: 1,
      RunErrors: 0,
      SpigotOpen: result.spigot === 'open' ? 1 : 0,
      AutoCloses: result.action === 'auto-closed' ? 1 : 0,
      // Jenkins up but refusing webhooks from several repositories: a broken plugin, proxy or secret.
      SystemicRefusals: s?.systemicRefusal ? 1 : 0,
      Refused: s?.refused ?? 0,
      // Forged deliveries (or a rotated secret): the forged-deliveries alarm watches this.
      SignatureMismatches: s?.signatureMismatches ?? 0,
      ProbeFailures: result.probeFailed ? 1 : 0,
      Released: s?.released ?? 0,
      Held: s?.held ?? 0,
      Retried: s?.retried ?? 0,
      DeadLettered: s?.deadLettered ?? 0,
      OldestMessageAgeSeconds: Math.round((s?.oldestAgeMs ?? 0) / 1000),
      SqsCalls: queue.calls - callsBefore,
      RunDurationMs: result.durationMs,
    });
    log.info('drain run finished', { trigger, ...result, stats: s });
    await recordLastRun(trigger, result);
    return result;
  }

  async function leasedRun(trigger: DrainTrigger, options: RunOptions): Promise<DrainResult | SkippedRun> {
    if (!lease) return drainOnce(trigger, options);
    const held = await lease.acquire(leaseConfig.waitSeconds, options.remainingMs);
    if (!held) {
      log.info('another drain run holds the run lease; this run does nothing', { trigger });
      return { skipped: true, reason: 'another drain run is in progress' };
    }
    try {
      return await drainOnce(trigger, options);
    } finally {
      // Not released (SQS down): it frees itself when this run's deadline passes.
      await held.release().catch((error: unknown) => log.warn('could not release the run lease', { error: errorMessage(error) }));
    }
  }

  return {
    settings,
    log,
    run: (trigger, options) => logLines.around(async () => {
      try {
        return await leasedRun(trigger, options);
      } catch (error) {
        // The run failed before it could report (the lease, SQS or SSM unreachable; a bug): alarm agent-run-errors.
        metrics.publish({ Runs: 1, RunErrors: 1 } satisfies MetricValues);
        throw error;
      }
    }),
    probeOnly: () => logLines.around(async () => {
      const startedAt = Date.now();
      const health = await probeJenkins({ jenkins, settings }, await secrets());
      const probe = `${settings.probe.method} ${new URL(settings.probe.path.slice(1), settings.jenkinsUrl.href.replace(/\/?$/, '/')).href}`;
      log.info('probe-only run', { healthy: health.healthy, reason: health.reason });
      return { probeOnly: true, healthy: health.healthy, reason: health.reason, probe, durationMs: Date.now() - startedAt };
    }),
    async close() {
      await metrics.flush();
      metrics.close();
      jenkins.close();
      sqs.destroy();
      ssm.destroy();
    },
  };
}
