/**
 * Finds the deployed resources a command needs, in this order:
 *   1. flags (--queue-url, --dlq-url, --parameter, --function, --webhook-url, --drain-status-parameter)
 *   2. environment (SPIGOT_QUEUE_URL, SPIGOT_DLQ_URL, SPIGOT_PARAMETER_NAME, SPIGOT_DRAIN_FUNCTION, SPIGOT_WEBHOOK_URL,
 *      SPIGOT_DRAIN_STATUS_PARAMETER)
 *   3. Terraform outputs the operator pointed at: `--outputs-file FILE` (a saved `terraform output -json`) or
 *      `terraform output -json` run in `--state-dir DIR`
 *   4. the stack (cli/stack.ts: --stack, else spigot.config.json): every name follows from the stack's name
 *      (after outputs pointed at in 3, only the names no output holds: the log groups);
 *      the queue URLs are looked up by name (sqs:GetQueueUrl)
 *   5. for the webhook URL and the alarm topic (ids AWS assigns do not follow from names): `terraform output -json`
 *      in cdktf.out/stacks/<stack> when that directory exists
 * Terraform is never run for an optional resource alone (a command works without it).
 * A stack whose drain runs as an agent (drain.mode "agent" in its config, or an `agent_environment` output)
 * has no drain function: its name is never derived, and a command that needs it says why instead.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CliError, UsageError } from './errors';
import { NO_STACK_MESSAGE, stackNames, type StackRef } from './stack';

export type ResourceKey =
  | 'queueUrl'
  | 'dlqUrl'
  | 'parameterName'
  | 'functionName'
  | 'webhookUrl'
  | 'drainStatusParameterName'
  | 'drainLogGroup'
  | 'accessLogGroup'
  | 'alarmTopicArn'
  | 'leaseQueueUrl';

interface ResourceSpec {
  readonly what: string;
  readonly flag: string;
  readonly env: string;
  readonly output: string;
}

export const RESOURCES: Readonly<Record<ResourceKey, ResourceSpec>> = {
  queueUrl: { what: 'buffer queue URL', flag: '--queue-url', env: 'SPIGOT_QUEUE_URL', output: 'queue_url' },
  dlqUrl: { what: 'dead-letter queue URL', flag: '--dlq-url', env: 'SPIGOT_DLQ_URL', output: 'dlq_url' },
  parameterName: { what: 'spigot parameter name', flag: '--parameter', env: 'SPIGOT_PARAMETER_NAME', output: 'spigot_parameter_name' },
  functionName: { what: 'drain function name', flag: '--function', env: 'SPIGOT_DRAIN_FUNCTION', output: 'drain_function_name' },
  webhookUrl: { what: 'webhook URL', flag: '--webhook-url', env: 'SPIGOT_WEBHOOK_URL', output: 'webhook_urls' },
  drainStatusParameterName: {
    what: 'drain status parameter name',
    flag: '--drain-status-parameter',
    env: 'SPIGOT_DRAIN_STATUS_PARAMETER',
    output: 'drain_status_parameter_name',
  },
  // No Terraform output names these: they follow from the stack's name, or are given.
  drainLogGroup: { what: 'drain log group', flag: '--drain-log-group', env: 'SPIGOT_DRAIN_LOG_GROUP', output: 'drain_log_group' },
  accessLogGroup: { what: 'API access log group', flag: '--access-log-group', env: 'SPIGOT_ACCESS_LOG_GROUP', output: 'access_log_group' },
  alarmTopicArn: { what: 'alarm topic ARN', flag: '--alarm-topic-arn', env: 'SPIGOT_ALARM_TOPIC_ARN', output: 'alarm_topic_arn' },
  // Only `spigot agent` without an agent_environment output needs it; no output names it, the name follows from the stack.
  leaseQueueUrl: { what: 'run lease queue URL', flag: '--lease-queue-url', env: 'SPIGOT_LEASE_QUEUE_URL', output: 'lease_queue_url' },
};

/** The global options as commander hands them over. */
export interface DiscoveryFlags {
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  readonly parameter?: string;
  readonly function?: string;
  readonly webhookUrl?: string;
  readonly drainStatusParameter?: string;
  readonly drainLogGroup?: string;
  readonly accessLogGroup?: string;
  readonly alarmTopicArn?: string;
  readonly leaseQueueUrl?: string;
  /** Route whose URL `webhook_urls` should give, e.g. `/github-webhook/`. */
  readonly route?: string;
  readonly stack?: string;
  readonly stateDir?: string;
  readonly outputsFile?: string;
}

export type TerraformRunner = (stateDir: string, env: NodeJS.ProcessEnv) => Promise<string>;

export interface DiscoveryContext {
  readonly flags: DiscoveryFlags;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Runs `terraform output -json`; replaceable in tests. */
  readonly runTerraform?: TerraformRunner;
  /** Progress messages (stderr). */
  readonly progress?: (message: string) => void;
  /** The stack the names follow from (cli/stack.ts), if any. */
  readonly stack?: StackRef;
  /** Looks a queue URL up by queue name (sqs:GetQueueUrl); needed to derive the queue URLs from a stack. */
  readonly queueUrlOf?: (queueName: string) => Promise<string>;
}

export type TerraformOutputs = Record<string, unknown>;

export const defaultStateDir = (stack: string): string => path.join('cdktf.out', 'stacks', stack);

const flagValue = (flags: DiscoveryFlags, key: ResourceKey): string | undefined => {
  switch (key) {
    case 'queueUrl':
      return flags.queueUrl;
    case 'dlqUrl':
      return flags.dlqUrl;
    case 'parameterName':
      return flags.parameter;
    case 'functionName':
      return flags.function;
    case 'webhookUrl':
      return flags.webhookUrl;
    case 'drainStatusParameterName':
      return flags.drainStatusParameter;
    case 'drainLogGroup':
      return flags.drainLogGroup;
    case 'accessLogGroup':
      return flags.accessLogGroup;
    case 'alarmTopicArn':
      return flags.alarmTopicArn;
    case 'leaseQueueUrl':
      return flags.leaseQueueUrl;
  }
};

const nonEmpty = (value: string | undefined): string | undefined => (value !== undefined && value.trim() !== '' ? value.trim() : undefined);

/** Parses `terraform output -json` ({name: {value, type, sensitive}}) into {name: value}. */
export function parseTerraformOutputs(text: string, source: string): TerraformOutputs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${source} is not JSON (${(error as Error).message}); it must be the output of \`terraform output -json\``);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`${source} is not a JSON object; it must be the output of \`terraform output -json\``);
  }
  const outputs: TerraformOutputs = {};
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null || !('value' in entry)) {
      throw new CliError(`${source}: output "${name}" has no "value"; expected the {name: {value}} shape of \`terraform output -json\``);
    }
    outputs[name] = (entry as { value: unknown }).value;
  }
  return outputs;
}

/** The line of terraform's stderr worth showing: its first `Error:` line, else its first line. */
export function terraformErrorLine(stderr: string): string | undefined {
  const lines = stderr
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.replace(/^[\s│╷╵]+/, '').trim())
    .filter((line) => line !== '');
  return lines.find((line) => line.startsWith('Error:')) ?? lines[0];
}

export const runTerraformOutput: TerraformRunner = (stateDir, env) =>
  new Promise((resolve, reject) => {
    execFile('terraform', ['output', '-json', '-no-color'], { cwd: stateDir, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error('terraform is not on PATH'));
        else {
          const detail = terraformErrorLine(String(stderr));
          reject(new Error(`\`terraform output -json\` failed${detail ? `: ${detail}` : ` (${error.message})`}`));
        }
        return;
      }
      resolve(String(stdout));
    });
  });

/** Loads Terraform outputs from --outputs-file or by running terraform in `stateDir`; returns why not otherwise. */
async function loadOutputs(ctx: DiscoveryContext, stateDir: string | undefined): Promise<{ outputs?: TerraformOutputs; why?: string }> {
  const { flags } = ctx;
  if (flags.outputsFile !== undefined) {
    const file = path.resolve(ctx.cwd, flags.outputsFile);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --outputs-file ${flags.outputsFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    return { outputs: parseTerraformOutputs(text, `--outputs-file ${flags.outputsFile}`) };
  }
  if (stateDir === undefined) return { why: 'no --state-dir or --outputs-file given' };
  const dir = path.resolve(ctx.cwd, stateDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return { why: `state dir ${stateDir} does not exist` };
  }
  ctx.progress?.(`reading \`terraform output -json\` in ${stateDir} ...`);
  try {
    const outputs = parseTerraformOutputs(await (ctx.runTerraform ?? runTerraformOutput)(dir, ctx.env), `\`terraform output -json\` in ${stateDir}`);
    if (Object.keys(outputs).length === 0) {
      return { why: `\`terraform output -json\` in ${stateDir} returned no outputs (is the stack deployed and \`terraform init\` done there?)` };
    }
    return { outputs };
  } catch (error) {
    if (error instanceof CliError) throw error;
    return { why: `in ${stateDir}: ${(error as Error).message}` };
  }
}

/** Resources no Terraform output names: they always follow from the stack's name. */
const NAME_ONLY: ReadonlySet<ResourceKey> = new Set(['drainLogGroup', 'accessLogGroup']);

/** Resources that follow from the stack's name only through a call (sqs:GetQueueUrl). */
const LOOKED_UP: ReadonlySet<ResourceKey> = new Set(['queueUrl', 'dlqUrl', 'leaseQueueUrl']);

/** A resource as it follows from the stack's name; undefined for the webhook URL (not derivable). */
async function fromStack(stack: StackRef, key: ResourceKey, ctx: DiscoveryContext): Promise<string | undefined> {
  const names = stackNames(stack.name);
  switch (key) {
    case 'parameterName':
      return names.parameterName;
    case 'drainStatusParameterName':
      return names.drainStatusParameterName;
    case 'functionName':
      return stack.drainMode === 'agent' ? undefined : names.functionName;
    case 'queueUrl':
      return ctx.queueUrlOf?.(names.queueName);
    case 'dlqUrl':
      return ctx.queueUrlOf?.(names.dlqName);
    case 'leaseQueueUrl':
      return ctx.queueUrlOf?.(names.leaseQueueName);
    case 'drainLogGroup':
      return names.drainLogGroup;
    case 'accessLogGroup':
      return names.accessLogGroup;
    case 'webhookUrl':
    case 'alarmTopicArn':
      return undefined; // ids AWS assigns (API id, account): from the flag, the variable or the outputs
  }
}

function fromOutputs(outputs: TerraformOutputs, key: ResourceKey, flags: DiscoveryFlags): string | undefined {
  const spec = RESOURCES[key];
  if (key !== 'webhookUrl') {
    const value = outputs[spec.output];
    return typeof value === 'string' ? nonEmpty(value) : undefined;
  }
  const map = outputs.webhook_urls;
  if (typeof map === 'object' && map !== null && !Array.isArray(map)) {
    const urls = map as Record<string, unknown>;
    if (flags.route !== undefined) {
      const url = urls[flags.route];
      if (typeof url !== 'string') {
        throw new UsageError(`--route ${flags.route} is not in the webhook_urls output; routes there: ${Object.keys(urls).join(', ') || '(none)'}`);
      }
      return url;
    }
    const routes = Object.keys(urls);
    const preferred = routes.find((r) => r.includes('github-webhook')) ?? routes[0];
    const url = preferred === undefined ? undefined : urls[preferred];
    if (typeof url === 'string') return url;
  }
  const first = outputs.webhook_url_0;
  return typeof first === 'string' ? first : undefined;
}

/** The output a drain.mode "agent" stack has, and a Lambda stack does not. */
export const AGENT_ENVIRONMENT_OUTPUT = 'agent_environment';

export const agentModeMessage = (stack: string | undefined, source: string): string =>
  `${stack === undefined ? 'this stack' : `stack ${stack}`} runs the drain as an agent (drain.mode "agent", per ${source}), so it has no drain Lambda ` +
  'to invoke or probe: the agent runs continuously next to Jenkins (`npx spigot agent`), and `spigot status` shows its last run. ' +
  'If the stack does have a drain function, pass --function NAME';

/**
 * The Terraform outputs the CLI would read for this stack (--outputs-file, --state-dir, else
 * cdktf.out/stacks/<stack> when it exists), or why there are none.
 */
export async function stackOutputs(ctx: DiscoveryContext): Promise<{ outputs?: TerraformOutputs; why?: string }> {
  const stateDir = nonEmpty(ctx.flags.stateDir) ?? (ctx.stack ? defaultStateDir(ctx.stack.name) : undefined);
  return loadOutputs(ctx, stateDir);
}

const joinAnd = (items: readonly string[]): string =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

/**
 * Resolves every requested resource or throws one error naming what is missing and how to give it.
 * `optional` resources are filled in when found without running Terraform for them alone, and left
 * undefined otherwise; they never cause an error of their own.
 */
export async function resolveResources<K extends ResourceKey, O extends ResourceKey = never>(
  keys: readonly K[],
  ctx: DiscoveryContext,
  optional: readonly O[] = [],
): Promise<Record<K, string> & Partial<Record<O, string>>> {
  type Result = Record<K, string> & Partial<Record<O, string>>;
  const found: Partial<Record<K | O, string>> = {};
  const all = [...keys, ...optional];
  const missing = (list: ReadonlyArray<K | O> = keys): Array<K | O> => list.filter((key) => found[key] === undefined);
  const fill = async (list: ReadonlyArray<K | O>, lookup: (key: ResourceKey) => Promise<string | undefined> | string | undefined) => {
    const values = await Promise.all(list.map(lookup));
    list.forEach((key, i) => {
      if (values[i] !== undefined) found[key] = values[i];
    });
  };

  await fill(all, (key) => nonEmpty(flagValue(ctx.flags, key)) ?? nonEmpty(ctx.env[RESOURCES[key].env]));

  // Outputs the operator pointed at beat the names: a stack deployed under other names still works.
  const explicitStateDir = nonEmpty(ctx.flags.stateDir);
  const explicit = ctx.flags.outputsFile !== undefined || explicitStateDir !== undefined;
  let why: string | undefined;
  let outputsLack: ResourceKey[] | undefined;
  let agentOutputs = false;
  const fromOutputsOf = async (stateDir: string | undefined, list: ReadonlyArray<K | O>) => {
    const loaded = await loadOutputs(ctx, stateDir);
    why = loaded.why;
    if (loaded.outputs === undefined) return;
    const outputs = loaded.outputs;
    agentOutputs = AGENT_ENVIRONMENT_OUTPUT in outputs;
    await fill(list, (key) => fromOutputs(outputs, key, ctx.flags));
    outputsLack = missing(list);
  };
  if (explicit && (missing().length > 0 || (missing(optional).length > 0 && ctx.flags.outputsFile !== undefined))) {
    await fromOutputsOf(explicitStateDir, missing(all));
  }

  const stack = ctx.stack;
  if (stack !== undefined) {
    // Outputs the operator pointed at are the whole answer for what they hold; names fill only what no output holds.
    const derivable = (key: ResourceKey): boolean => !explicit || NAME_ONLY.has(key);
    // Optional resources only when they cost no call (names), required ones whatever it takes.
    await fill(missing(keys).filter(derivable), (key) => fromStack(stack, key, ctx));
    await fill(missing(optional).filter((key) => derivable(key) && !LOOKED_UP.has(key)), (key) => fromStack(stack, key, ctx));
    if (!explicit && missing().length > 0) await fromOutputsOf(defaultStateDir(stack.name), missing(all));
  }

  const left = missing();
  if (left.length === 0) return found as Result;
  if (left.includes('functionName' as K) && (stack?.drainMode === 'agent' || agentOutputs)) {
    throw new UsageError(agentModeMessage(stack?.name, stack?.drainMode === 'agent' ? stack.source : 'its Terraform outputs'));
  }
  if (stack === undefined && !explicit) throw new UsageError(NO_STACK_MESSAGE);

  const specs = left.map((key) => RESOURCES[key]);
  const source =
    outputsLack !== undefined
      ? `Terraform outputs lack ${joinAnd(outputsLack.map((k) => RESOURCES[k].output))}`
      : `Terraform outputs unavailable: ${why ?? 'unknown reason'}`;
  const stateDirHint = stack === undefined ? '--state-dir DIR' : `--state-dir DIR (default ${defaultStateDir(stack.name)})`;
  throw new UsageError(
    `cannot find the ${joinAnd(specs.map((s) => s.what))}${stack === undefined ? '' : ` of stack ${stack.name}`}: pass ${joinAnd(specs.map((s) => s.flag))}, ` +
      `or set ${joinAnd(specs.map((s) => s.env))}, ` +
      `or point spigot at Terraform outputs with ${stateDirHint} or --outputs-file FILE (saved \`terraform output -json\`) ` +
      `[${source}]`,
  );
}
