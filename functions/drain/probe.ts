import { evaluateProbe, evaluateQuietDown, type Health } from './core/health';
import { classifyError } from './core/outcome';
import type { DrainDeps, DrainSecrets } from './drain-types';

/** Jenkins' health: the probe path, then (with credentials) quiet-down. */
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
