/**
 * `spigot doctor`: a preflight anyone can run before a deploy (config, credentials, account
 * quotas and settings, state backend) and after it (outputs, spigot, alarm topic, the drain
 * reaching Jenkins from where it runs, a webhook route). Read-only except one probe-only
 * drain invocation, which sends nothing but the health probe to Jenkins.
 */
import os from 'node:os';
import { GetAccountCommand } from '@aws-sdk/client-api-gateway';
import { GetAccountSettingsCommand, GetFunctionConcurrencyCommand, InvokeCommand, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { ConfigError, configPath, isPlaceholderJenkinsUrl, loadConfig, type SpigotConfig } from '../../stacks/config';
import { resolveSourcePolicy } from '../../stacks/source-policy';
import { drainFunctionName } from '../../stacks/resource-names';
import { parseSpigotState } from '../../functions/shared/spigot-state';
import type { Clients } from '../clients';
import { describeError } from '../errors';
import type { ResourceKey } from '../resources';
import {
  accountRoleVerdict,
  concurrencyVerdict,
  probeVerdict,
  routeVerdict,
  spigotVerdict,
  stateBackendVerdict,
  subscriptionsVerdict,
  type CheckResult,
  type Phase,
  type Verdict,
} from './doctor-checks';

export interface DoctorOptions {
  readonly before: boolean;
  readonly after: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Finds the deployed resources the way every command does (flags, env, Terraform outputs). */
  readonly resolve: (keys: readonly ResourceKey[]) => Promise<Record<ResourceKey, string>>;
  readonly httpTimeoutMs?: number;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

/** Every output the CLI and the checks below need (a drain.mode "agent" stack has no drain function). */
const deployed = (agent: boolean): readonly ResourceKey[] =>
  ['queueUrl', 'dlqUrl', 'parameterName', ...(agent ? [] : ['functionName' as const]), 'webhookUrl', 'drainStatusParameterName', 'alarmTopicArn'];
const isAgent = (config: SpigotConfig | undefined): boolean => config?.drain.mode === 'agent';
const AGENT_PROBE = 'drain.mode "agent" has no Lambda to probe from: the agent probes Jenkins before every run where it runs; `spigot status` shows its last run and the agent\'s log says why a probe failed';

export async function doctor(clients: Clients, options: DoctorOptions): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const run = async (phase: Phase, check: string, verdict: () => Promise<Verdict> | Verdict): Promise<Verdict> => {
    let result: Verdict;
    try {
      result = await verdict();
    } catch (error) {
      result = { status: 'fail', detail: describeError(error) };
    }
    checks.push({ phase, check, ...result });
    return result;
  };
  const skip = (phase: Phase, check: string, why: string) => checks.push({ phase, check, status: 'warn', detail: `not checked: ${why}` });

  let config: SpigotConfig | undefined;
  await run('before', 'config', () => {
    const file = configPath(options.env, options.cwd);
    try {
      config = loadConfig(file);
    } catch (error) {
      if (error instanceof ConfigError) return { status: 'fail', detail: error.problems.join('; ') };
      throw error;
    }
    const where = file ?? 'the embedded default configuration (no spigot.config.json)';
    if (isPlaceholderJenkinsUrl(config.jenkinsUrl)) {
      return { status: 'fail', detail: `${where}: jenkinsUrl is the placeholder ${config.jenkinsUrl}, which plan and apply refuse: set "jenkinsUrl"` };
    }
    if (resolveSourcePolicy(config).kind === 'unchosen') {
      return { status: 'fail', detail: `${where}: allowedSources is not set, which plan and apply refuse: choose ["github"], a list of CIDR blocks, or ["anyone"] (README "Who may send webhooks")` };
    }
    return { status: 'ok', detail: `${where}: stack "${config.name}" in ${config.region}, Jenkins ${config.jenkinsUrl}` };
  });

  if (options.before) await beforeChecks(clients, config, options, run, skip);
  if (options.after) await afterChecks(clients, config, options, run, skip);
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

type Run = (phase: Phase, check: string, verdict: () => Promise<Verdict> | Verdict) => Promise<Verdict>;
type Skip = (phase: Phase, check: string, why: string) => void;

async function beforeChecks(clients: Clients, config: SpigotConfig | undefined, options: DoctorOptions, run: Run, skip: Skip): Promise<void> {
  const region = await run('before', 'region', async () => {
    const cli = await clients.lambda.config.region().catch(() => undefined);
    if (!cli) return { status: 'fail', detail: 'no AWS region: set AWS_REGION (or a profile with a region)' };
    if (config && cli !== config.region) {
      return { status: 'warn', detail: `the CLI uses ${cli} but the stack deploys to ${config.region}: set AWS_REGION=${config.region} so these checks (and the other commands) look there` };
    }
    return { status: 'ok', detail: cli };
  });

  let account: { limit: number; unreserved: number } | undefined;
  await run('before', 'credentials', async () => {
    if (region.status === 'fail') return { status: 'fail', detail: 'not checked without a region' };
    const settings = await clients.lambda.send(new GetAccountSettingsCommand({}));
    account = { limit: settings.AccountLimit?.ConcurrentExecutions ?? 0, unreserved: settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0 };
    return { status: 'ok', detail: 'AWS credentials work (lambda:GetAccountSettings answered)' };
  });

  if (isAgent(config)) await run('before', 'lambda concurrency', () => ({ status: 'ok', detail: 'drain.mode "agent": no drain Lambda, so no concurrency to reserve' }));
  else if (account === undefined || config === undefined) skip('before', 'lambda concurrency', account === undefined ? 'no account settings' : 'no valid config');
  else {
    const { limit, unreserved } = account;
    const want = config.drain.reservedConcurrency;
    await run('before', 'lambda concurrency', async () => concurrencyVerdict({ limit, unreserved }, want, await drainReservation(clients, config!.name)));
  }

  if (config === undefined) skip('before', 'api gateway logging role', 'no valid config');
  else {
    const c = config;
    await run('before', 'api gateway logging role', async () => {
      const current = await clients.apiGateway.send(new GetAccountCommand({}));
      return accountRoleVerdict(current.cloudwatchRoleArn || undefined, c.manageApiGatewayAccountRole, `${c.name}-apigw-cloudwatch`);
    });
  }

  if (config === undefined) skip('before', 'state backend', 'no valid config');
  else await run('before', 'state backend', () => stateBackendVerdict(config!.name, config!.backend, options.cwd, os.tmpdir()));
}

/** The drain's current reservation (0 when it has none or is not deployed yet). */
async function drainReservation(clients: Clients, stack: string): Promise<number> {
  try {
    const answer = await clients.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: drainFunctionName(stack) }));
    return answer.ReservedConcurrentExecutions ?? 0;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as { name?: string }).name === 'ResourceNotFoundException') return 0;
    throw error;
  }
}

async function afterChecks(clients: Clients, config: SpigotConfig | undefined, options: DoctorOptions, run: Run, skip: Skip): Promise<void> {
  let r: Record<ResourceKey, string> | undefined;
  const keys = deployed(isAgent(config));
  await run('after', 'outputs', async () => {
    r = await options.resolve(keys);
    return { status: 'ok', detail: `all ${keys.length} resources found (${isAgent(config) ? 'drain agent' : `function ${r.functionName}`}, webhook ${r.webhookUrl})` };
  });
  if (r === undefined) {
    for (const check of ['spigot parameter', 'alarm topic', 'drain reaches jenkins', 'webhook route']) skip('after', check, 'outputs missing');
    return;
  }
  const resources = r;

  await run('after', 'spigot parameter', async () => {
    const answer = await clients.ssm.send(new GetParameterCommand({ Name: resources.parameterName }));
    const value = answer.Parameter?.Value ?? '';
    const parsed = parseSpigotState(value);
    return spigotVerdict(value, parsed.recognised, parsed.state);
  });

  await run('after', 'alarm topic', async () => {
    const answer = await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: resources.alarmTopicArn }));
    const a = answer.Attributes ?? {};
    return subscriptionsVerdict(Number(a.SubscriptionsConfirmed ?? 0), Number(a.SubscriptionsPending ?? 0));
  });

  if (isAgent(config)) skip('after', 'drain reaches jenkins', AGENT_PROBE);
  else await run('after', 'drain reaches jenkins', async () => {
    const answer = await clients.lambda.send(new InvokeCommand({
      FunctionName: resources.functionName,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify({ source: 'spigot-doctor', probeOnly: true })),
    }));
    const text = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : '';
    if (answer.FunctionError) return { status: 'fail', detail: `the drain failed (${answer.FunctionError}): ${text.slice(0, 300)}` };
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
    return probeVerdict(payload);
  });

  await run('after', 'webhook route', async () => {
    const response = await fetch(resources.webhookUrl, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(options.httpTimeoutMs ?? 10_000) });
    await response.body?.cancel();
    const verdict = routeVerdict(response.status, config !== undefined && resolveSourcePolicy(config).kind === 'restricted');
    return { ...verdict, detail: `${resources.webhookUrl}: ${verdict.detail}` };
  });
}
