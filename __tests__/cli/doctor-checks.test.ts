import path from 'node:path';
import {
  LAMBDA_MIN_UNRESERVED,
  accountRoleVerdict,
  concurrencyVerdict,
  probeVerdict,
  routeVerdict,
  spigotVerdict,
  stateBackendVerdict,
  subscriptionsVerdict,
} from '../../cli/commands/doctor-checks';

describe('doctor verdicts', () => {
  it('when no reservation is configured, any account passes the concurrency check, even a new one with 10', () => {
    expect(concurrencyVerdict({ limit: 10, unreserved: 10 }, undefined, 0).status).toBe('ok');
  });

  it('when a reservation is configured, it passes only if 100 stay unreserved, counting what the drain already holds', () => {
    expect(concurrencyVerdict({ limit: 1000, unreserved: 101 }, 1, 0)).toMatchObject({ status: 'ok', detail: expect.stringContaining('leaves 100 unreserved') });
    expect(concurrencyVerdict({ limit: 1000, unreserved: 100 }, 1, 0)).toMatchObject({ status: 'fail', detail: expect.stringContaining(`would leave 99 unreserved, below Lambda's minimum of ${LAMBDA_MIN_UNRESERVED}`) });
    // Already deployed with 1 reserved: the account shows 100 unreserved, and keeping 1 is fine.
    expect(concurrencyVerdict({ limit: 1000, unreserved: 100 }, 1, 1).status).toBe('ok');
  });

  it('when the stack does not own the account role, the account must already have one', () => {
    expect(accountRoleVerdict(undefined, false, 'spigot-apigw-cloudwatch')).toMatchObject({ status: 'fail', detail: expect.stringContaining('aws apigateway update-account') });
    expect(accountRoleVerdict('arn:aws:iam::1:role/x', false, 'spigot-apigw-cloudwatch').status).toBe('ok');
  });

  it('when the stack owns the account role, replacing another role only warns, and its own or none is fine', () => {
    expect(accountRoleVerdict('arn:aws:iam::1:role/other', true, 'spigot-apigw-cloudwatch')).toMatchObject({ status: 'warn', detail: expect.stringContaining('replaces it with spigot-apigw-cloudwatch') });
    expect(accountRoleVerdict('arn:aws:iam::1:role/spigot-apigw-cloudwatch', true, 'spigot-apigw-cloudwatch').status).toBe('ok');
    expect(accountRoleVerdict(undefined, true, 'spigot-apigw-cloudwatch').status).toBe('ok');
  });

  it('when state is local it warns; in cdktf.out or a temp dir (throwaway) it fails; S3 passes', () => {
    const project = '/srv/spigot';
    expect(stateBackendVerdict('spigot', { type: 'local' }, project, '/tmp').status).toBe('warn');
    expect(stateBackendVerdict('spigot', { type: 'local', path: 'cdktf.out/state.tfstate' }, project, '/tmp').status).toBe('fail');
    expect(stateBackendVerdict('spigot', { type: 'local', path: '/tmp/x/spigot.tfstate' }, project, '/tmp').status).toBe('fail');
    expect(stateBackendVerdict('spigot', { type: 'local' }, path.join('/tmp', 'checkout'), '/tmp').status).toBe('fail');
    expect(stateBackendVerdict('spigot', { type: 's3', bucket: 'b', key: 'k', region: 'us-east-1' }, project, '/tmp')).toEqual({ status: 'ok', detail: 'S3 s3://b/k (us-east-1), no lock table' });
  });

  it('when the alarm topic has a confirmed subscription it passes; pending only or none fails', () => {
    expect(subscriptionsVerdict(1, 2)).toEqual({ status: 'ok', detail: '1 confirmed subscription(s), 2 pending' });
    expect(subscriptionsVerdict(0, 1).status).toBe('fail');
    expect(subscriptionsVerdict(0, 0)).toMatchObject({ status: 'fail', detail: expect.stringContaining('Set alarms.email') });
  });

  it('when the spigot holds something other than open/closed, it warns that it counts as closed', () => {
    expect(spigotVerdict('open', true, 'open').status).toBe('ok');
    expect(spigotVerdict('closed', true, 'closed').detail).toContain('held');
    expect(spigotVerdict('maybe', false, 'closed')).toMatchObject({ status: 'warn', detail: expect.stringContaining('"maybe"') });
  });

  it('when a GET on the route answers 405 it passes; 403 from outside the CIDR allowlist only warns; anything else fails', () => {
    expect(routeVerdict(405, false).status).toBe('ok');
    expect(routeVerdict(403, true).status).toBe('warn');
    expect(routeVerdict(403, false).status).toBe('fail');
    expect(routeVerdict(404, false).detail).toContain('no such route');
    expect(routeVerdict(502, false).status).toBe('fail');
  });

  it('when the drain answers its probe, healthy passes, unhealthy fails with the reason, and an old drain is named', () => {
    expect(probeVerdict({ probeOnly: true, healthy: true, probe: 'GET https://ci/whoAmI/api/json', durationMs: 12 }).detail).toBe('Jenkins is healthy from where the drain runs: GET https://ci/whoAmI/api/json (12 ms)');
    expect(probeVerdict({ probeOnly: true, healthy: false, reason: 'probe /whoAmI/api/json answered 503', probe: 'GET x', durationMs: 3 })).toMatchObject({ status: 'fail', detail: expect.stringContaining('answered 503') });
    expect(probeVerdict({ spigot: 'open', action: 'released' })).toMatchObject({ status: 'fail', detail: expect.stringContaining('before Spigot 0.2') });
  });
});
