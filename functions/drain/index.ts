import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BufferQueueClient } from './adapters/buffer-queue';
import { JenkinsClient } from './adapters/jenkins-client';
import { RunLease, leaseSettings } from './adapters/run-lease';
import { SpigotSwitch, readSecret } from './adapters/spigot-switch';
import { lastRunRecord, probeJenkins, runDrain, type DrainResult, type DrainSecrets, type DrainTrigger } from './drain';
import { publishMetrics } from './metrics';
import type { ReleaseLog } from './release';
import { readSettings } from './settings';
import { SenderTrust } from './core/sender-trust';
import { errorMessage } from '../shared/error-message';

// Read once per cold start: a bad environment fails here, loudly, before any message moves.
const settings = readSettings();
const logger = new Logger({ serviceName: `${settings.metricsStack}-drain`, logLevel: settings.logLevel });
/** The one structured logger, as the release loop sees it. Fields never include bodies or secrets. */
const log: ReleaseLog = {
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};
// Default credential, region and endpoint chain: AWS_ENDPOINT_URL_SQS/SSM point these at emulators.
// Calls are bounded: a stalled connection must not hold the run past its time budget.
const AWS_CALL_LIMITS = { connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true };
// The configured endpoint wins over the queue URL's host: identical on AWS, and what makes
// AWS_ENDPOINT_URL_SQS work with emulators whose queue URLs name unresolvable hosts.
// md5: false skips the SDK's MD5 check of every message body received or sent: TLS already
// guarantees the bytes arrive as SQS sent them, so it only cost CPU (about 0.06 ms a webhook).
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, requestHandler: AWS_CALL_LIMITS, md5: false });
const ssm = new SSMClient({ requestHandler: AWS_CALL_LIMITS });
const queue = new BufferQueueClient(sqs, settings.queueUrl, settings.deadLetterQueueUrl);
const spigot = new SpigotSwitch(ssm, settings.spigotParameterName);
const jenkins = new JenkinsClient(settings.jenkinsUrl, settings.concurrency);
const leaseConfig = leaseSettings(process.env);
const lease = leaseConfig.queueUrl ? new RunLease(sqs, leaseConfig.queueUrl) : undefined;

// Which repositories the webhook secret verified: lives as long as the container, across runs.
const senders = new SenderTrust();

const SECRET_TTL_MS = 5 * 60 * 1000;
let cachedSecrets: { value: DrainSecrets; at: number } | undefined;

/** Secrets are read lazily and cached briefly, so a rotated token is picked up within minutes. */
async function secrets(): Promise<DrainSecrets> {
  if (cachedSecrets && Date.now() - cachedSecrets.at < SECRET_TTL_MS) return cachedSecrets.value;
  const value: DrainSecrets = {
    jenkinsCredentials: settings.credentialsParameterName ? await readSecret(ssm, settings.credentialsParameterName) : undefined,
    webhookSecret: settings.webhookSecretParameterName ? await readSecret(ssm, settings.webhookSecretParameterName) : undefined,
  };
  cachedSecrets = { value, at: Date.now() };
  return value;
}

/** `spigot status` reads the last run from this parameter; failing to write it never fails the run. */
async function recordLastRun(trigger: DrainTrigger, result: DrainResult): Promise<void> {
  if (!settings.drainStatusParameterName) return;
  try {
    await ssm.send(new PutParameterCommand({
      Name: settings.drainStatusParameterName,
      Type: 'String',
      Overwrite: true,
      Value: JSON.stringify(lastRunRecord(trigger, result, new Date())),
    }));
  } catch (error) {
    log.warn('could not record the drain status parameter', { error: errorMessage(error) });
  }
}

interface DrainEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  /** `spigot doctor`: probe Jenkins from where the drain runs, release nothing. */
  readonly probeOnly?: boolean;
}

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

export function triggerOf(event: DrainEvent | undefined): DrainTrigger {
  if (event?.source === 'aws.ssm') return 'spigot-changed';
  if (event?.source === 'aws.events' || event?.['detail-type'] === 'Scheduled Event') return 'schedule';
  return 'manual';
}

type LambdaContext = { getRemainingTimeInMillis(): number };

export async function handler(event: DrainEvent | undefined, context: LambdaContext): Promise<DrainResult | SkippedRun | ProbeOnlyResult> {
  if (event?.probeOnly === true) return probeOnly();
  if (!lease) return drainOnce(event, context);
  const held = await lease.acquire(leaseConfig.waitSeconds, () => context.getRemainingTimeInMillis());
  if (!held) {
    log.info('another drain run holds the run lease; this run does nothing', { trigger: triggerOf(event) });
    return { skipped: true, reason: 'another drain run is in progress' };
  }
  try {
    return await drainOnce(event, context);
  } finally {
    // Not released (SQS down): it frees itself when this run's deadline passes.
    await held.release().catch((error: unknown) => log.warn('could not release the run lease', { error: errorMessage(error) }));
  }
}

async function probeOnly(): Promise<ProbeOnlyResult> {
  const startedAt = Date.now();
  const health = await probeJenkins({ jenkins, settings }, await secrets());
  const probe = `${settings.probe.method} ${new URL(settings.probe.path.slice(1), settings.jenkinsUrl.href.replace(/\/?$/, '/')).href}`;
  log.info('probe-only run', { healthy: health.healthy, reason: health.reason });
  return { probeOnly: true, healthy: health.healthy, reason: health.reason, probe, durationMs: Date.now() - startedAt };
}

async function drainOnce(event: DrainEvent | undefined, context: LambdaContext): Promise<DrainResult> {
  const trigger = triggerOf(event);
  const callsBefore = queue.calls;
  let result: DrainResult;
  try {
    result = await runDrain(
      { settings, queue, spigot, jenkins, secrets, senders, log, remainingMs: () => context.getRemainingTimeInMillis() },
      trigger,
    );
  } catch (error) {
    log.error('drain run failed', { error: errorMessage(error) });
    throw error;
  }
  const s = result.stats;
  publishMetrics(settings.metricsNamespace, settings.metricsStack, {
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
