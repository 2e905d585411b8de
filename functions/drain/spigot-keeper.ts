/**
 * The drain's side of the spigot: re-reading it during a run, closing it when Jenkins is not
 * healthy, and reopening a close it owns. Every write goes over the version read, and a write
 * of anyone else's that landed in between is put back on top.
 */
import { autoCloseDescription, drainOwnsClose, withHealthyProbes } from './core/spigot-state';
import type { DrainDeps, DrainResult } from './drain-types';
import { probeJenkins } from './probe';
import { errorMessage } from '../shared/error-message';
import { parseSpigotState } from '../shared/spigot-state';

/** Re-reads the spigot at most every `intervalMs`; an unreadable parameter counts as closed. */
export function cachedSpigotCheck(deps: DrainDeps, intervalMs: number, now: () => number, readAt: number): () => Promise<boolean> {
  let checkedAt = readAt;
  let open = true;
  return async () => {
    if (deps.stopRequested?.()) return false;
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
export async function autoClose(deps: DrainDeps, reason: string): Promise<void> {
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
export async function maybeReopen(deps: DrainDeps, elapsed: () => number): Promise<DrainResult> {
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
