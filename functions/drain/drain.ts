import type { BufferQueueClient } from './adapters/buffer-queue';
import type { JenkinsClient } from './adapters/jenkins-client';
import type { SpigotSwitch } from './adapters/spigot-switch';
import { evaluateProbe, evaluateQuietDown, type Health } from './core/health';
import { classifyError, classifyResponse } from './core/outcome';
import { RateLimiter } from './core/rate-limiter';
import { buildReplayRequest, type ReplayRequest } from './core/replay-request';
import { totalBackoffMs } from './core/retry';
import { verifyGitHubSignature } from '../shared/github-signature';
import { errorMessage } from '../shared/error-message';
import { parseSpigotState } from '../shared/spigot-state';
import { SMOKE_HEADER } from '../shared/webhook-headers';
import { autoCloseDescription, drainOwnsClose, withHealthyProbes } from './core/spigot-state';
import { TimeBudget } from './core/time-budget';
import { releaseHeldWebhooks, type Disposition, type ReleaseLog, type ReleaseStats } from './release';
import type { DrainSettings } from './settings';
import { decodeEnvelope, headerValue, type WebhookEnvelope } from '../shared/envelope';
import type { HeldWebhook } from './adapters/buffer-queue';
import type { SenderTrust } from './core/sender-trust';

const SIGNATURE_MISMATCH = 'signature mismatch: X-Hub-Signature-256 does not match the webhook secret';

export type DrainTrigger = 'schedule' | 'spigot-changed' | 'manual';

export interface DrainSecrets {
  /** `user:apiToken` for Jenkins, enabling the quiet-down check. */
  readonly jenkinsCredentials?: string;
  readonly webhookSecret?: string;
}

export interface DrainDeps {
  readonly settings: DrainSettings;
  readonly queue: BufferQueueClient;
  readonly spigot: SpigotSwitch;
  readonly jenkins: JenkinsClient;
  readonly secrets: () => Promise<DrainSecrets>;
  /** Repositories the webhook secret verified recently; kept across runs by the entry point. */
  readonly senders?: SenderTrust;
  readonly log: ReleaseLog;
  readonly remainingMs: () => number;
  readonly now?: () => number;
}

export interface DrainResult {
  readonly spigot: 'open' | 'closed';
  readonly action: 'held (spigot closed)' | 'auto-closed' | 'reopened' | 'released';
  readonly reason?: string;
  readonly probeFailed?: boolean;
  readonly stats?: ReleaseStats;
  readonly durationMs: number;
}


export async function probeJenkins(deps: Pick<DrainDeps, 'jenkins' | 'settings'>, secrets: DrainSecrets): Promise<Health> {
  const first = await probeOnce(deps, secrets, false);
  if (first.healthy || !first.networkError) return first;
  // A reset or a stale keep-alive socket must not close the spigot: confirm on a fresh connection.
  return probeOnce(deps, secrets, true);
}

async function probeOnce(
  deps: Pick<DrainDeps, 'jenkins' | 'settings'>,
  secrets: DrainSecrets,
  freshConnection: boolean,
): Promise<Health & { networkError?: boolean }> {
  const { probe } = deps.settings;
  try {
    const answer = await deps.jenkins.get(probe.path, probe.timeoutMs, probe.method, undefined, freshConnection);
    const health = evaluateProbe(probe.path, answer.status, probe.expectStatus);
    if (!health.healthy || !secrets.jenkinsCredentials) return health;
    const authorization = `Basic ${Buffer.from(secrets.jenkinsCredentials).toString('base64')}`;
    const quiet = await deps.jenkins.get('/api/json?tree=quietingDown', probe.timeoutMs, 'GET', authorization, freshConnection);
    return evaluateQuietDown(quiet.status, quiet.body);
  } catch (error) {
    return { healthy: false, networkError: true, reason: `probe ${probe.path} failed: ${classifyError(error).reason}` };
  }
}

/** One drain run: read the spigot, probe Jenkins, and only then release. */
export async function runDrain(deps: DrainDeps, trigger: DrainTrigger): Promise<DrainResult> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const elapsed = () => now() - startedAt;
  const { settings, log } = deps;

  let value: string | undefined;
  try {
    value = (await deps.spigot.read()).value;
  } catch (error) {
    log.error('could not read the spigot parameter; holding everything', { error: errorMessage(error) });
    return { spigot: 'closed', action: 'held (spigot closed)', reason: 'spigot parameter unreadable', durationMs: elapsed() };
  }
  const parsed = parseSpigotState(value);
  if (!parsed.recognised) {
    log.error('spigot parameter holds an unrecognised value; treating it as closed', { expected: 'open or closed' });
  }
  if (parsed.state === 'closed') {
    if (trigger === 'schedule' && settings.autoReopenAfterHealthyProbes && parsed.recognised) {
      return maybeReopen(deps, elapsed);
    }
    return { spigot: 'closed', action: 'held (spigot closed)', reason: parsed.recognised ? undefined : 'unrecognised spigot value', durationMs: elapsed() };
  }

  // Secrets are only needed from here on: a closed spigot never reads them.
  const secrets = await deps.secrets();
  const health = await probeJenkins(deps, secrets);
  if (!health.healthy) {
    await autoClose(deps, health.reason ?? 'probe failed');
    return { spigot: 'closed', action: 'auto-closed', reason: health.reason, probeFailed: true, durationMs: elapsed() };
  }

  // Each webhook is decoded once, when inspected, and its replay request reused on retries.
  const requests = new WeakMap<HeldWebhook, ReplayRequest>();
  const budget = new TimeBudget(
    { startedAt, maxRunMs: settings.maxRunMs, httpTimeoutMs: settings.httpTimeoutMs, maxAttempts: settings.maxAttempts, totalBackoffMs: totalBackoffMs(settings.maxAttempts) },
    deps.remainingMs,
    now,
  );
  const stats = await releaseHeldWebhooks(
    {
      queue: deps.queue,
      budget,
      log,
      inspect: (message) => {
        const disposition = inspect(message, secrets, deps.senders, now());
        if (disposition.kind !== 'send') return disposition;
        try {
          requests.set(message, buildReplayRequest(disposition.envelope, settings.jenkinsUrl));
        } catch (error) {
          // A header HTTP cannot carry would fail every attempt: Jenkins will never get it.
          return { kind: 'dead-letter', reason: errorMessage(error) };
        }
        return disposition;
      },
      attempt: async (message) => {
        const request = requests.get(message) ?? buildReplayRequest(decodeEnvelope(message.body), settings.jenkinsUrl);
        try {
          const answer = await deps.jenkins.post(request, settings.httpTimeoutMs);
          return classifyResponse(answer.status, answer.headers, now());
        } catch (error) {
          return classifyError(error);
        }
      },
      // The cache starts from the read above, so a close during the probe is seen at once.
      spigotOpen: cachedSpigotCheck(deps, settings.stateRecheckMs, now, startedAt),
      rateLimiter: settings.ratePerSecond ? new RateLimiter(settings.ratePerSecond) : undefined,
      now,
    },
    {
      concurrency: settings.concurrency,
      maxAttempts: settings.maxAttempts,
      autoCloseAfterFailures: settings.autoCloseAfterFailures,
      hold: settings.hold,
      refusals: settings.refusals,
      idleWaitSeconds: settings.idleWaitSeconds,
    },
  );
  if (stats.autoCloseReason) {
    await autoClose(deps, stats.autoCloseReason);
    return { spigot: 'closed', action: 'auto-closed', reason: stats.autoCloseReason, stats, durationMs: elapsed() };
  }
  return { spigot: stats.stoppedBecause === 'closed' ? 'closed' : 'open', action: 'released', stats, durationMs: elapsed() };
}

type Inspected = Exclude<Disposition, { kind: 'send' }> | { readonly kind: 'send'; readonly envelope: WebhookEnvelope };

function inspect(message: HeldWebhook, secrets: DrainSecrets, senders: SenderTrust | undefined, now: number): Inspected {
  let envelope: WebhookEnvelope;
  try {
    envelope = decodeEnvelope(message.body);
  } catch (error) {
    return { kind: 'dead-letter', reason: errorMessage(error) };
  }
  // Only a ping can be a smoke test: a sender adding the header to a real event gets it delivered.
  if (headerValue(envelope, SMOKE_HEADER) !== undefined && headerValue(envelope, 'X-GitHub-Event') === 'ping') {
    return { kind: 'discard', reason: 'smoke test delivery' };
  }
  const signature = headerValue(envelope, 'X-Hub-Signature-256');
  if (!secrets.webhookSecret || signature === undefined) return { kind: 'send', envelope };
  if (verifyGitHubSignature(secrets.webhookSecret, envelope.body, signature)) {
    senders?.verified(message.groupId, now);
    return { kind: 'send', envelope };
  }
  if (senders && !senders.mayBeRotation(message.groupId, now)) {
    // The secret verifies other repositories but never verified this one: a forgery (or a hook
    // with another secret). Never sent, never counted toward closing the spigot.
    return { kind: 'dead-letter', reason: `${SIGNATURE_MISMATCH}; this repository's deliveries have not verified recently (forged, or its hook has another secret)`, signatureMismatch: true };
  }
  // Judged like a Jenkins refusal: one alone is poison, every delivery failing means a rotated secret.
  return { kind: 'refuse', refusal: 'signature', reason: `${SIGNATURE_MISMATCH} (forged, or the secret changed)` };
}

/** Re-reads the spigot at most every `intervalMs`; an unreadable parameter counts as closed. */
function cachedSpigotCheck(deps: DrainDeps, intervalMs: number, now: () => number, readAt: number): () => Promise<boolean> {
  let checkedAt = readAt;
  let open = true;
  return async () => {
    if (now() - checkedAt < intervalMs) return open;
    checkedAt = now();
    try {
      open = parseSpigotState((await deps.spigot.read()).value).state === 'open';
    } catch (error) {
      deps.log.error('could not re-read the spigot parameter; stopping releases', { error: errorMessage(error) });
      open = false;
    }
    if (!open) deps.log.info('spigot closed during the run; holding what remains');
    return open;
  };
}

/**
 * SSM has no compare-and-set. The drain writes over the version it read and checks the
 * version SSM gives back: if anyone's write landed in between, theirs is put back on top,
 * so an operator's close (with their reason) or reopen always wins.
 */
async function writeOver(deps: DrainDeps, readVersion: number, value: 'open' | 'closed', description: string): Promise<boolean> {
  const written = await deps.spigot.write(value, description);
  if (written === readVersion + 1) return true;
  const theirs = await deps.spigot.version(written - 1);
  if (theirs?.value !== undefined) {
    await deps.spigot.write(theirs.value, theirs.description ?? 'restored by the drain after a concurrent change');
  }
  deps.log.warn('the spigot changed while the drain was writing it; the other change was put back and stands', { readVersion, written, restored: theirs?.version });
  return false;
}

/** Closes the spigot because Jenkins is not healthy, unless it was closed meanwhile. */
async function autoClose(deps: DrainDeps, reason: string): Promise<void> {
  try {
    const current = await deps.spigot.read();
    if (parseSpigotState(current.value).state === 'closed') {
      deps.log.warn('Jenkins is not healthy, but the spigot was closed meanwhile; leaving its reason as is', { reason });
      return;
    }
    deps.log.warn('closing the spigot: Jenkins is not healthy; webhooks stay queued', { reason });
    await writeOver(deps, current.version, 'closed', autoCloseDescription(reason, new Date((deps.now ?? Date.now)()), current.version));
  } catch (error) {
    deps.log.error('could not close the spigot parameter', { error: errorMessage(error) });
  }
}

/**
 * Reopens after N consecutive healthy probes, but only a close the drain itself wrote and
 * nobody has written over since. Secrets are read only for a close the drain owns.
 */
async function maybeReopen(deps: DrainDeps, elapsed: () => number): Promise<DrainResult> {
  const closed = (reason: string, probeFailed?: boolean): DrainResult => ({ spigot: 'closed', action: 'held (spigot closed)', reason, probeFailed, durationMs: elapsed() });
  const current = await deps.spigot.latest();
  const record = current && drainOwnsClose(current);
  if (!current?.description || !record) return closed('closed by an operator');
  const health = await probeJenkins(deps, await deps.secrets());
  const healthyProbes = health.healthy ? record.healthyProbes + 1 : 0;
  if (healthyProbes === record.healthyProbes) return closed(health.reason ?? `healthy probes: ${healthyProbes}`, !health.healthy);
  // The probe took a while: if anyone changed the spigot meanwhile, their change stands.
  if ((await deps.spigot.read()).version !== current.version) return closed('the spigot changed during the probe');
  if (health.healthy && healthyProbes >= (deps.settings.autoReopenAfterHealthyProbes ?? Infinity)) {
    if (!(await writeOver(deps, current.version, 'open', `reopened by drain after ${healthyProbes} consecutive healthy probes`))) {
      return closed('the spigot changed while the drain reopened it');
    }
    deps.log.info('reopened the spigot', { healthyProbes });
    return { spigot: 'open', action: 'reopened', durationMs: elapsed() };
  }
  await writeOver(deps, current.version, 'closed', withHealthyProbes(current.description, healthyProbes, current.version));
  return closed(health.reason ?? `healthy probes: ${healthyProbes}`, !health.healthy);
}

/** What the drain leaves in the drain-status parameter for `spigot status` (no bodies, no secrets). */
export function lastRunRecord(trigger: DrainTrigger, result: DrainResult, at: Date): Record<string, unknown> {
  const s = result.stats;
  return {
    at: at.toISOString(),
    trigger,
    spigot: result.spigot,
    action: result.action,
    ...(result.reason ? { reason: result.reason.slice(0, 500) } : {}),
    released: s?.released ?? 0,
    held: s?.held ?? 0,
    retried: s?.retried ?? 0,
    deadLettered: s?.deadLettered ?? 0,
    refused: s?.refused ?? 0,
    signatureMismatches: s?.signatureMismatches ?? 0,
    discarded: s?.discarded ?? 0,
    oldestMessageAgeSeconds: s ? Math.round(s.oldestAgeMs / 1000) : null,
    durationMs: result.durationMs,
  };
}
