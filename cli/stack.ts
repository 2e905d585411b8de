/**
 * Which stack the CLI operates, and the names its resources get.
 *
 * The stack is `--stack` (or SPIGOT_STACK), else the `name` in the same spigot.config.json synth reads
 * (SPIGOT_CONFIG, else ./spigot.config.json). The region is `--region`, else the config's `region` when
 * the stack is the config's, else the AWS default chain (AWS_REGION, the profile).
 *
 * The names mirror the stack's constructs (stacks/constructs/*); __tests__/cli/stack.test.ts checks them
 * against a synthesized stack, so a rename there fails a test here.
 */
import { readFileSync } from 'node:fs';
import { configPath, DEFAULT_CONFIG } from '../stacks/config';
import { drainFunctionName, drainLogGroupName } from '../stacks/resource-names';
import { UsageError } from './errors';

export interface StackRef {
  readonly name: string;
  /** Undefined: the AWS default chain decides. */
  readonly region?: string;
  /** Where the name came from, for messages: `--stack`, `SPIGOT_STACK` or the config file's path. */
  readonly source: string;
  /** The config's drain.mode, when the stack is the config's; undefined when unknown. */
  readonly drainMode?: 'lambda' | 'agent';
}

export interface StackNames {
  readonly parameterName: string;
  readonly drainStatusParameterName: string;
  readonly functionName: string;
  readonly queueName: string;
  readonly dlqName: string;
  readonly leaseQueueName: string;
  readonly drainLogGroup: string;
  readonly accessLogGroup: string;
}

export function stackNames(stack: string): StackNames {
  return {
    parameterName: `/${stack}/spigot`,
    drainStatusParameterName: `/${stack}/drain-status`,
    functionName: drainFunctionName(stack),
    queueName: `${stack}-buffer.fifo`,
    dlqName: `${stack}-dlq.fifo`,
    leaseQueueName: `${stack}-drain-lease.fifo`,
    drainLogGroup: drainLogGroupName(stack),
    accessLogGroup: `/aws/apigateway/${stack}/access`,
  };
}

export const NO_STACK_MESSAGE =
  'no stack configured: run spigot where spigot.config.json is (or set SPIGOT_CONFIG to its path), or pass --stack NAME';

const nonEmpty = (value: string | undefined): string | undefined => (value !== undefined && value.trim() !== '' ? value.trim() : undefined);

interface ConfigStack {
  readonly file: string;
  readonly name: string;
  readonly region: string;
  readonly drainMode: 'lambda' | 'agent';
}

/** Only `name`, `region` and `drain.mode` of the config, with synth's defaults; the rest is synth's business. */
function readConfigStack(env: NodeJS.ProcessEnv, cwd: string): ConfigStack | undefined {
  const file = configPath(env, cwd);
  if (file === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`cannot read the stack's name from ${file}${env.SPIGOT_CONFIG ? ' (SPIGOT_CONFIG)' : ''}: ${why}`);
  }
  const config = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { name?: unknown; region?: unknown; drain?: { mode?: unknown } };
  const field = (key: 'name' | 'region'): string => {
    const value = config[key];
    if (value === undefined) return DEFAULT_CONFIG[key];
    if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`${file}: "${key}" must be a non-empty string`);
    return value.trim();
  };
  const drainMode = config.drain?.mode === 'agent' ? 'agent' : 'lambda';
  return { file, name: field('name'), region: field('region'), drainMode };
}

export interface StackFlags {
  readonly stack?: string;
  readonly region?: string;
}

/** The stack to operate, or undefined when nothing names one. */
export function resolveStack(flags: StackFlags, env: NodeJS.ProcessEnv, cwd: string): StackRef | undefined {
  const picked = nonEmpty(flags.stack) ?? nonEmpty(env.SPIGOT_STACK);
  const region = nonEmpty(flags.region);
  // A picked stack does not need the config to exist; an unreadable one only matters when it is used.
  let config: ConfigStack | undefined;
  try {
    config = readConfigStack(env, cwd);
  } catch (error) {
    if (picked === undefined) throw error;
  }
  if (picked !== undefined) {
    const source = nonEmpty(flags.stack) !== undefined ? '--stack' : 'SPIGOT_STACK';
    const own = config?.name === picked ? config : undefined;
    return { name: picked, region: region ?? own?.region, source, drainMode: own?.drainMode };
  }
  if (config === undefined) return undefined;
  return { name: config.name, region: region ?? config.region, source: config.file, drainMode: config.drainMode };
}
