/**
 * Finds the deployed resources a command needs, in this order:
 *   1. flags (--queue-url, --dlq-url, --parameter, --function, --webhook-url, --drain-status-parameter)
 *   2. environment (SPIGOT_QUEUE_URL, SPIGOT_DLQ_URL, SPIGOT_PARAMETER_NAME, SPIGOT_DRAIN_FUNCTION, SPIGOT_WEBHOOK_URL,
 *      SPIGOT_DRAIN_STATUS_PARAMETER)
 *   3. Terraform outputs: `--outputs-file FILE` (a saved `terraform output -json`), else
 *      `terraform output -json` run in --state-dir (default cdktf.out/stacks/<stack>).
 * Terraform is only consulted when flags and environment leave a required resource missing. Optional
 * resources (a command works without them) never cause a terraform run of their own: they come from the
 * outputs only when those are read anyway, or when --outputs-file names a saved copy (cheap to read).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CliError, UsageError } from './errors';

export type ResourceKey = 'queueUrl' | 'dlqUrl' | 'parameterName' | 'functionName' | 'webhookUrl' | 'drainStatusParameterName' | 'alarmTopicArn';

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
  alarmTopicArn: { what: 'alarm topic ARN', flag: '--alarm-topic-arn', env: 'SPIGOT_ALARM_TOPIC_ARN', output: 'alarm_topic_arn' },
};

/** The global options as commander hands them over. */
export interface DiscoveryFlags {
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  readonly parameter?: string;
  readonly function?: string;
  readonly webhookUrl?: string;
  readonly drainStatusParameter?: string;
  readonly alarmTopicArn?: string;
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
}

export type TerraformOutputs = Record<string, unknown>;

export const DEFAULT_STACK = 'spigot';

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
    case 'alarmTopicArn':
      return flags.alarmTopicArn;
  }
};

const stackName = (ctx: DiscoveryContext): string => nonEmpty(ctx.flags.stack) ?? nonEmpty(ctx.env.SPIGOT_STACK) ?? DEFAULT_STACK;

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

/** Loads Terraform outputs from --outputs-file or by running terraform; returns why not otherwise. */
async function loadOutputs(ctx: DiscoveryContext): Promise<{ outputs?: TerraformOutputs; why?: string }> {
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
  const stack = stackName(ctx);
  const stateDir = nonEmpty(flags.stateDir) ?? defaultStateDir(stack);
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

const joinAnd = (items: readonly string[]): string =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

/**
 * Resolves every requested resource or throws one error naming all the missing ones and how to give them.
 * `optional` resources are filled in when found (see the header for when Terraform is consulted for them)
 * and left undefined otherwise; they never cause an error of their own.
 */
export async function resolveResources<K extends ResourceKey, O extends ResourceKey = never>(
  keys: readonly K[],
  ctx: DiscoveryContext,
  optional: readonly O[] = [],
): Promise<Record<K, string> & Partial<Record<O, string>>> {
  type Result = Record<K, string> & Partial<Record<O, string>>;
  const found: Partial<Record<K | O, string>> = {};
  for (const key of [...keys, ...optional]) {
    const value = nonEmpty(flagValue(ctx.flags, key)) ?? nonEmpty(ctx.env[RESOURCES[key].env]);
    if (value !== undefined) found[key] = value;
  }
  let missing = keys.filter((key) => found[key] === undefined);
  const optionalMissing = optional.filter((key) => found[key] === undefined);
  const wantOutputs = missing.length > 0 || (optionalMissing.length > 0 && ctx.flags.outputsFile !== undefined);
  if (!wantOutputs) return found as Result;

  const { outputs, why } = await loadOutputs(ctx);
  if (outputs !== undefined) {
    for (const key of [...missing, ...optionalMissing]) {
      const value = fromOutputs(outputs, key, ctx.flags);
      if (value !== undefined) found[key] = value;
    }
  }
  missing = keys.filter((key) => found[key] === undefined);
  if (missing.length === 0) return found as Result;

  const specs = missing.map((key) => RESOURCES[key]);
  const source =
    outputs !== undefined
      ? `Terraform outputs lack ${joinAnd(specs.map((s) => s.output))}`
      : `Terraform outputs unavailable: ${why ?? 'unknown reason'}`;
  throw new UsageError(
    `cannot find the ${joinAnd(specs.map((s) => s.what))}: pass ${joinAnd(specs.map((s) => s.flag))}, ` +
      `or set ${joinAnd(specs.map((s) => s.env))}, ` +
      `or point spigot at Terraform outputs with --state-dir DIR (default ${defaultStateDir(stackName(ctx))}) or --outputs-file FILE (saved \`terraform output -json\`) ` +
      `[${source}]`,
  );
}
