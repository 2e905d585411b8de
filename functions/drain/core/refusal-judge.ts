/**
 * Telling a broken Jenkins from a poison webhook. Pure: the release loop parks every refused
 * webhook (it stays in flight, at the head of its repository) and asks this judge what the
 * refusals mean.
 *
 * - A refusal is only poison once Jenkins is seen accepting another webhook: a success
 *   anywhere confirms every refusal parked before it ("it stands alone").
 * - A run of refusals of one status from several repositories with no success in between
 *   means Jenkins itself refuses webhooks (a plugin that failed to load, a proxy rule, a
 *   rotated secret): close the spigot and hold everything, the refused ones included.
 * - Signature failures are the one refusal an outsider can produce at will, so their volume
 *   never closes the spigot mid-run: only a run that accepted nothing at all, with signature
 *   failures from several repositories, means the secret was rotated.
 */

/** What refused a webhook: Jenkins' status, or the drain's own signature check. */
export type RefusalKind = number | 'signature';

export interface RefusalPolicy {
  /** Refusals of one kind in a row (no success between) that mean Jenkins is broken. @default 5 */
  readonly afterWebhooks: number;
  /** ...and that come from at least this many repositories. @default 2 */
  readonly fromRepositories: number;
  /** Statuses judged this way; any other refusal is dead-lettered at once. @default every 3xx and 4xx */
  readonly statuses: ReadonlySet<number>;
  /**
   * Judged statuses an outsider can produce at will (a 400 for a forged signature when anyone
   * may send and the drain does not verify): parked and confirmed like the others, but they never
   * close the spigot. @default none
   */
  readonly untrusted?: ReadonlySet<number>;
  /**
   * Signature failures are something an outsider produces at will too (anyone may send, so a
   * forgery can name any repository the secret verified): they never close the spigot, and a
   * rotated secret shows as held webhooks instead. @default false
   */
  readonly untrustedSignatures?: boolean;
}

export type RefusalVerdict =
  /** Wait: park the webhook until a success confirms it as poison, or the run ends. */
  | { readonly kind: 'park' }
  /** Jenkins refuses webhooks in general: close the spigot, hold everything. */
  | { readonly kind: 'systemic'; readonly reason: string }
  /** It stands alone (or is not a status this policy judges): dead-letter it now. */
  | { readonly kind: 'poison' };

interface Run {
  webhooks: number;
  readonly repositories: Set<string>;
}

/** A webhook Jenkins accepted this long ago still vouches that Jenkins takes webhooks. */
export const RECENT_ACCEPTANCE_MS = 60 * 60 * 1000;

export class RefusalJudge {
  private readonly runs = new Map<RefusalKind, Run>();
  private acceptedAny = false;

  constructor(private readonly policy: RefusalPolicy) {}

  /** A webhook of `repository` was refused. */
  refused(repository: string, kind: RefusalKind): RefusalVerdict {
    if (kind !== 'signature' && !this.policy.statuses.has(kind)) return { kind: 'poison' };
    const run = this.runs.get(kind) ?? { webhooks: 0, repositories: new Set<string>() };
    run.webhooks += 1;
    run.repositories.add(repository);
    this.runs.set(kind, run);
    if (kind !== 'signature' && !this.isUntrusted(kind) && this.isSystemic(run)) {
      return { kind: 'systemic', reason: systemicReason(kind, run.webhooks, run.repositories.size) };
    }
    return { kind: 'park' };
  }

  /** Jenkins accepted a webhook: every parked refusal stands alone, and every run is broken. */
  succeeded(): void {
    this.runs.clear();
    this.acceptedAny = true;
  }

  /**
   * The run ended with refusals still parked (nothing accepted after them).
   * - Refusals from fewer repositories than `fromRepositories`, in a run where Jenkins accepted
   *   webhooks before them (or, with nothing accepted this run, one it accepted recently): they
   *   stand alone, so they are poison. Without this, the one repository with traffic would stay
   *   blocked behind its poison head.
   * - Nothing accepted in the whole run: refusals of one status from several repositories mean
   *   Jenkins is broken even below the threshold (few repositories queued); signature failures
   *   need the threshold.
   * - Anything else is left parked: the next run decides.
   */
  atRunEnd(acceptedRecently: boolean): RefusalVerdict {
    if (this.runs.size === 0) return { kind: 'park' };
    const pending = new Set<string>();
    for (const run of this.runs.values()) for (const repository of run.repositories) pending.add(repository);
    const standsAlone = pending.size < this.policy.fromRepositories;
    if (this.acceptedAny) return standsAlone ? { kind: 'poison' } : { kind: 'park' };
    for (const [kind, run] of this.runs) {
      if (this.isUntrusted(kind)) continue;
      const enough = kind === 'signature' ? this.isSystemic(run) : run.repositories.size >= this.policy.fromRepositories;
      if (enough) return { kind: 'systemic', reason: systemicReason(kind, run.webhooks, run.repositories.size) };
    }
    return standsAlone && acceptedRecently ? { kind: 'poison' } : { kind: 'park' };
  }

  private isUntrusted(kind: RefusalKind): boolean {
    if (kind === 'signature') return this.policy.untrustedSignatures === true;
    return this.policy.untrusted?.has(kind) === true;
  }

  private isSystemic(run: Run): boolean {
    return run.webhooks >= this.policy.afterWebhooks && run.repositories.size >= this.policy.fromRepositories;
  }
}

/** A reason a person at 2am can act on. */
export function systemicReason(kind: RefusalKind, webhooks: number, repositories: number): string {
  const counted = `${webhooks} webhook${webhooks === 1 ? '' : 's'} from ${repositories} repositor${repositories === 1 ? 'y' : 'ies'} in a row`;
  if (kind === 'signature') {
    return `the drain's signature check failed for ${counted}: check the webhook secret (the drain's secret parameter and the hooks' secret must match)`;
  }
  return `Jenkins answered ${kind} to ${counted}: ${statusHint(kind)}`;
}

function statusHint(status: number): string {
  if (status === 404) return 'is the GitHub plugin (or the plugin serving this webhook route) loaded?';
  if (status === 403) return 'a proxy, CSRF or authorization rule refuses webhooks';
  if (status === 401) return 'Jenkins asks for authentication on the webhook route';
  if (status === 400) return 'check the webhook secret in Jenkins (a rotated secret refuses every signature)';
  if (status === 405) return 'the webhook route does not accept POST: check jenkinsUrl and the routes';
  if (status >= 300 && status < 400) return 'Jenkins redirects webhooks: check jenkinsUrl (scheme, host and context path)';
  return 'check Jenkins\' logs for why it refuses webhooks';
}

/** 408 and 429 are retried, never refusals. */
const isRefusalStatus = (status: number): boolean => status >= 300 && status <= 499 && status !== 408 && status !== 429;

/** Every 3xx and 4xx except 408 and 429. */
export function defaultRefusalStatuses(): Set<number> {
  return parseRefusalStatuses('3xx,4xx');
}

/**
 * Parses `3xx,4xx` or `404,403,400`-style lists (what the stack writes into the environment).
 * Throws with the offending entry.
 */
export function parseRefusalStatuses(text: string): Set<number> {
  const statuses = new Set<number>();
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^([34])xx$/i.exec(raw);
    if (range) {
      const base = Number(range[1]) * 100;
      for (let s = base; s < base + 100; s += 1) if (isRefusalStatus(s)) statuses.add(s);
      continue;
    }
    const status = Number(raw);
    if (!Number.isInteger(status) || !isRefusalStatus(status)) {
      throw new Error(`${JSON.stringify(raw)} is not a refusal status (3xx or 4xx other than 408 and 429, or "3xx"/"4xx")`);
    }
    statuses.add(status);
  }
  return statuses;
}
