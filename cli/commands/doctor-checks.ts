/**
 * `spigot doctor`'s decisions: each turns what AWS (or the config) said into one ok/warn/fail line.
 * Pure, so every threshold and message is unit-tested; doctor.ts only fetches the inputs.
 */
import path from 'node:path';
import type { BackendConfig } from '../../stacks/config';
import { fromStackDir, localStatePath } from '../../stacks/state-path';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export type Phase = 'before' | 'after';

export interface CheckResult {
  readonly phase: Phase;
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export type Verdict = Pick<CheckResult, 'status' | 'detail'>;

/** Lambda refuses a reservation that leaves less than this unreserved in the account. */
export const LAMBDA_MIN_UNRESERVED = 100;

export function concurrencyVerdict(account: { limit: number; unreserved: number }, want: number | undefined, heldByDrain: number): Verdict {
  if (want === undefined) {
    return { status: 'ok', detail: `no reservation needed (the run lease keeps one drain at a time); account limit ${account.limit}, unreserved ${account.unreserved}` };
  }
  // What the drain already reserves comes back to the pool when its reservation changes.
  const left = account.unreserved + heldByDrain - want;
  if (left >= LAMBDA_MIN_UNRESERVED) {
    return { status: 'ok', detail: `drain.reservedConcurrency ${want} leaves ${left} unreserved (Lambda needs ${LAMBDA_MIN_UNRESERVED}); account limit ${account.limit}` };
  }
  return {
    status: 'fail',
    detail: `drain.reservedConcurrency ${want} would leave ${left} unreserved, below Lambda's minimum of ${LAMBDA_MIN_UNRESERVED} (account limit ${account.limit}): ` +
      'apply would fail. Remove drain.reservedConcurrency (the run lease already keeps one drain at a time) or request a higher "Concurrent executions" quota',
  };
}

export function accountRoleVerdict(currentRoleArn: string | undefined, manage: boolean, stackRoleName: string): Verdict {
  const ours = currentRoleArn !== undefined && currentRoleArn.endsWith(`:role/${stackRoleName}`);
  if (manage) {
    if (currentRoleArn === undefined || ours) return { status: 'ok', detail: `this stack sets the account's API Gateway CloudWatch role (${stackRoleName})` };
    return {
      status: 'warn',
      detail: `the account already uses ${currentRoleArn}; manageApiGatewayAccountRole true replaces it with ${stackRoleName} for every REST API in the region. Set it to false unless this stack should own the setting`,
    };
  }
  if (currentRoleArn === undefined) {
    return {
      status: 'fail',
      detail: 'the account has no API Gateway CloudWatch role, so stage logging (and apply) fails: set "manageApiGatewayAccountRole": true in exactly one stack per account and region, ' +
        'or `aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=<role arn>`',
    };
  }
  return { status: 'ok', detail: `the account's API Gateway CloudWatch role is ${currentRoleArn}` };
}

/** Local state under cdktf.out or a temp dir disappears with the next clean: as bad as none. */
export function stateBackendVerdict(stack: string, backend: BackendConfig, projectDir: string, tmpDir: string): Verdict {
  if (backend.type === 's3') {
    return { status: 'ok', detail: `S3 s3://${backend.bucket}/${backend.key} (${backend.region})${backend.dynamodbTable ? `, locked with ${backend.dynamodbTable}` : ', no lock table'}` };
  }
  const file = localStatePath(stack, backend)!;
  const absolute = path.resolve(projectDir, 'cdktf.out', 'stacks', stack, fromStackDir(file));
  const inside = (dir: string) => !path.relative(dir, absolute).startsWith('..');
  if (inside(path.join(projectDir, 'cdktf.out')) || inside(tmpDir)) {
    return { status: 'fail', detail: `local state ${absolute} is in a folder that synth, a clean or a reboot deletes: use the S3 backend (README "Terraform state")` };
  }
  return { status: 'warn', detail: `local state ${file}: fine for a trial; use the S3 backend for anything else (README "Terraform state")` };
}

export function subscriptionsVerdict(confirmed: number, pending: number): Verdict {
  if (confirmed > 0) return { status: 'ok', detail: `${confirmed} confirmed subscription(s)${pending > 0 ? `, ${pending} pending` : ''}` };
  if (pending > 0) return { status: 'fail', detail: `${pending} subscription(s) pending confirmation and none confirmed: alarms reach nobody until the link in the AWS e-mail is followed` };
  return { status: 'fail', detail: 'no subscriptions: alarms reach nobody. Set alarms.email, or subscribe your pager to the alarm topic' };
}

export function spigotVerdict(value: string, recognised: boolean, state: 'open' | 'closed'): Verdict {
  if (!recognised) return { status: 'warn', detail: `holds ${JSON.stringify(value)}, which counts as closed: set it with \`spigot open\` or \`spigot close\`` };
  return { status: 'ok', detail: state === 'open' ? 'open: the drain releases' : 'closed: webhooks are held (`spigot status` says why)' };
}

/** What a GET on a webhook route says: the route's MOCK answers 405, so nothing is queued. */
export function routeVerdict(status: number, restrictedSources: boolean): Verdict {
  if (status === 405) return { status: 'ok', detail: 'GET answered 405 (POST only): the route exists and nothing was queued' };
  if (status === 403 && restrictedSources) return { status: 'warn', detail: 'GET answered 403: this machine is outside allowedSources, so the route could not be checked from here' };
  if (status === 404) return { status: 'fail', detail: 'GET answered 404: the API has no such route (wrong --route or URL?)' };
  return { status: 'fail', detail: `GET answered ${status}, expected 405 from the route (custom domain DNS or base path mapping not in place yet?)` };
}

interface ProbeAnswer {
  readonly probeOnly?: unknown;
  readonly healthy?: unknown;
  readonly reason?: unknown;
  readonly probe?: unknown;
  readonly durationMs?: unknown;
}

export function probeVerdict(answer: unknown): Verdict {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as ProbeAnswer;
  if (a.probeOnly !== true) return { status: 'fail', detail: 'the deployed drain does not answer probe-only invocations (deployed before Spigot 0.2?): redeploy' };
  const what = `${String(a.probe)} (${String(a.durationMs)} ms)`;
  if (a.healthy === true) return { status: 'ok', detail: `Jenkins is healthy from where the drain runs: ${what}` };
  return { status: 'fail', detail: `the drain cannot use Jenkins: ${String(a.reason ?? 'unhealthy')}; ${what}` };
}
