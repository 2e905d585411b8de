import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BufferQueueClient } from './adapters/buffer-queue';
import { JenkinsClient } from './adapters/jenkins-client';
import { SpigotSwitch, readSecret } from './adapters/spigot-switch';
import { lastRunRecord, runDrain, type DrainResult, type DrainSecrets, type DrainTrigger } from './drain';
import { publishMetrics } from './metrics';
import type { ReleaseLog } from './release';
import { readSettings } from './settings';
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
}

export function triggerOf(event: DrainEvent | undefined): DrainTrigger {
  if (event?.source === 'aws.ssm') return 'spigot-changed';
  if (event?.source === 'aws.events' || event?.['detail-type'] === 'Scheduled Event') return 'schedule';
  return 'manual';
}

export async function handler(event: DrainEvent | undefined, context: { getRemainingTimeInMillis(): number }): Promise<DrainResult> {
  const trigger = triggerOf(event);
  const callsBefore = queue.calls;
  let result: DrainResult;
  try {
    result = await runDrain(
      { settings, queue, spigot, jenkins, secrets, log, remainingMs: () => context.getRemainingTimeInMillis() },
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
