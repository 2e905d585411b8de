import { classifyError, classifyResponse } from './core/outcome';
import { RateLimiter } from './core/rate-limiter';
import { buildReplayRequest, type ReplayRequest } from './core/replay-request';
import { totalBackoffMs } from './core/retry';
import { TimeBudget } from './core/time-budget';
import { Envelopes, SignatureChecks, inspect } from './inspect';
import { probeJenkins } from './probe';
import { releaseHeldWebhooks } from './release';
import { autoClose, cachedSpigotCheck, maybeReopen } from './spigot-keeper';
import type { DrainDeps, DrainResult, DrainTrigger } from './drain-types';
import { errorMessage } from '../shared/error-message';
import { parseSpigotState } from '../shared/spigot-state';
import type { HeldWebhook } from './adapters/buffer-queue';

export type { DrainDeps, DrainResult, DrainSecrets, DrainTrigger } from './drain-types';
export { probeJenkins } from './probe';

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

  // Each webhook is decoded once, and its replay request reused on retries.
  const envelopes = new Envelopes();
  const signatures = new SignatureChecks(envelopes, secrets.webhookSecrets, deps.senders);
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
      identify: (message) => envelopes.ids(message),
      received: (messages) => signatures.observe(messages, now()),
      inspect: (message) => {
        const disposition = inspect(message, envelopes, signatures, now());
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
        const request = requests.get(message) ?? buildReplayRequest(envelopes.of(message), settings.jenkinsUrl);
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
      memory: deps.memory,
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
