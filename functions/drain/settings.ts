import type { HoldPolicy } from './core/hold';
import { defaultRefusalStatuses, parseRefusalStatuses, type RefusalPolicy } from './core/refusal-judge';

/**
 * The drain's configuration, read from the environment once at start-up. A missing or
 * malformed variable fails the cold start with a message naming it, instead of a run
 * that half works.
 */
export interface ProbeSettings {
  readonly path: string;
  readonly method: 'GET' | 'HEAD';
  readonly expectStatus: readonly number[];
  readonly timeoutMs: number;
}

export interface DrainSettings {
  readonly jenkinsUrl: URL;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly spigotParameterName: string;
  /** Where the last run's summary is written for `spigot status`; optional. */
  readonly drainStatusParameterName?: string;
  readonly concurrency: number;
  readonly ratePerSecond?: number;
  readonly httpTimeoutMs: number;
  readonly maxAttempts: number;
  readonly autoCloseAfterFailures: number;
  readonly autoReopenAfterHealthyProbes?: number;
  readonly credentialsParameterName?: string;
  readonly webhookSecretParameterName?: string;
  readonly probe: ProbeSettings;
  /** How long held repositories stay hidden: default, floor and where the floor stops doubling. */
  readonly hold: HoldPolicy;
  /** When a run of refusals means Jenkins is broken rather than the webhooks poison. */
  readonly refusals: RefusalPolicy;
  /** A run stops receiving after this long, so runs tile the schedule. */
  readonly maxRunMs: number;
  /** Longest long-poll wait while idle; short, so a closed spigot stops receiving within seconds. */
  readonly idleWaitSeconds: number;
  /** How often the spigot is re-read during a run, so a close takes effect quickly. */
  readonly stateRecheckMs: number;
  readonly logLevel: LogLevel;
  readonly metricsNamespace: string;
  readonly metricsStack: string;
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

export class SettingsError extends Error {
  constructor(variable: string, problem: string) {
    super(`drain environment variable ${variable} ${problem}`);
    this.name = 'SettingsError';
  }
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new SettingsError(name, 'is required');
  return value.trim();
}

function integer(env: Env, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(name, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const req = (v: number | undefined): number => v as number;

export function readSettings(env: Env = process.env): DrainSettings {
  let jenkinsUrl: URL;
  try {
    jenkinsUrl = new URL(required(env, 'JENKINS_URL'));
  } catch (error) {
    if (error instanceof SettingsError) throw error;
    throw new SettingsError('JENKINS_URL', 'must be an absolute http(s) URL');
  }
  if (!['http:', 'https:'].includes(jenkinsUrl.protocol)) throw new SettingsError('JENKINS_URL', 'must use http or https');
  const method = (env.PROBE_METHOD ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') throw new SettingsError('PROBE_METHOD', 'must be GET or HEAD');
  const expectStatus = (env.PROBE_EXPECT_STATUS ?? '200').split(',').map((s) => Number(s.trim()));
  if (expectStatus.some((s) => !Number.isInteger(s) || s < 100 || s > 599)) {
    throw new SettingsError('PROBE_EXPECT_STATUS', 'must be a comma-separated list of HTTP statuses such as "200"');
  }
  const logLevel = (env.LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new SettingsError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const probePath = env.PROBE_PATH ?? '/whoAmI/api/json';
  if (!probePath.startsWith('/')) throw new SettingsError('PROBE_PATH', 'must start with "/"');
  return {
    jenkinsUrl,
    queueUrl: required(env, 'QUEUE_URL'),
    deadLetterQueueUrl: required(env, 'DLQ_URL'),
    spigotParameterName: required(env, 'SPIGOT_PARAMETER_NAME'),
    drainStatusParameterName: env.DRAIN_STATUS_PARAMETER_NAME || undefined,
    concurrency: req(integer(env, 'CONCURRENCY', 8, 1, 64)),
    ratePerSecond: integer(env, 'RATE_PER_SECOND', undefined, 1, 10000),
    httpTimeoutMs: req(integer(env, 'HTTP_TIMEOUT_MS', 10000, 100, 120000)),
    maxAttempts: req(integer(env, 'MAX_ATTEMPTS', 3, 1, 10)),
    autoCloseAfterFailures: req(integer(env, 'AUTO_CLOSE_AFTER_FAILURES', 5, 1, 1000)),
    autoReopenAfterHealthyProbes: integer(env, 'AUTO_REOPEN_AFTER_HEALTHY_PROBES', undefined, 1, 1000),
    credentialsParameterName: env.JENKINS_CREDENTIALS_PARAMETER || undefined,
    webhookSecretParameterName: env.WEBHOOK_SECRET_PARAMETER || undefined,
    probe: { path: probePath, method, expectStatus, timeoutMs: req(integer(env, 'PROBE_TIMEOUT_MS', 5000, 100, 60000)) },
    hold: holdPolicy(env),
    refusals: {
      afterWebhooks: req(integer(env, 'REFUSALS_AFTER_WEBHOOKS', 5, 1, 1000)),
      fromRepositories: req(integer(env, 'REFUSALS_FROM_REPOSITORIES', 2, 1, 1000)),
      statuses: refusalStatuses(env, 'REFUSAL_STATUSES'),
      ...untrustedRefusals(env),
    },
    maxRunMs: req(integer(env, 'MAX_RUN_SECONDS', 55, 1, 900)) * 1000,
    idleWaitSeconds: req(integer(env, 'IDLE_WAIT_SECONDS', 5, 0, 20)),
    stateRecheckMs: req(integer(env, 'STATE_RECHECK_MS', 2000, 100, 60000)),
    logLevel,
    metricsNamespace: env.METRICS_NAMESPACE ?? 'Spigot',
    metricsStack: env.METRICS_STACK ?? 'spigot',
  };
}

/** REFUSALS_UNTRUSTED_STATUSES: statuses, and `signature` for the drain's own check (stacks/source-policy.ts). */
function untrustedRefusals(env: Env): { untrusted: ReadonlySet<number>; untrustedSignatures: boolean } {
  const name = 'REFUSALS_UNTRUSTED_STATUSES';
  const entries = (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const untrustedSignatures = entries.some((e) => e.toLowerCase() === 'signature');
  const statuses = entries.filter((e) => e.toLowerCase() !== 'signature').join(',');
  return { untrusted: refusalStatuses({ [name]: statuses }, name, new Set()), untrustedSignatures };
}

function holdPolicy(env: Env): HoldPolicy {
  const minHoldSeconds = req(integer(env, 'MIN_HOLD_SECONDS', 60, 1, 43200));
  const maxHoldSeconds = req(integer(env, 'MAX_HOLD_SECONDS', 300, 1, 43200));
  if (maxHoldSeconds < minHoldSeconds) throw new SettingsError('MAX_HOLD_SECONDS', `must be at least MIN_HOLD_SECONDS (${minHoldSeconds})`);
  return { defaultHoldSeconds: req(integer(env, 'HOLD_SECONDS', 30, 1, 43200)), minHoldSeconds, maxHoldSeconds };
}

function refusalStatuses(env: Env, name: string, fallback: ReadonlySet<number> = defaultRefusalStatuses()): ReadonlySet<number> {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (raw.trim().toLowerCase() === 'none') return new Set();
  try {
    return parseRefusalStatuses(raw);
  } catch (error) {
    throw new SettingsError(name, (error as Error).message);
  }
}
