/**
 * `spigot env`: the stack's resources as shell variables, for the runbook's raw `aws` commands and to
 * pin a maintenance window to one stack: `eval "$(npx spigot env)"`. The CLI reads the same variables.
 */
import type { StackRef } from '../stack';

const shellQuote = (value: string): string => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

export interface EnvResources {
  readonly parameterName: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  /** Undefined for a drain.mode "agent" stack, which has no drain function. */
  readonly functionName?: string;
  readonly drainStatusParameterName?: string;
  readonly drainLogGroup?: string;
  readonly accessLogGroup?: string;
}

/** `export NAME=value` lines, in the order the runbook uses them. Pure. */
export function envLines(stack: StackRef | undefined, region: string | undefined, r: EnvResources): string[] {
  const pairs: Array<[string, string | undefined]> = [
    ['SPIGOT_STACK', stack?.name],
    ['AWS_REGION', region],
    ['SPIGOT_PARAMETER_NAME', r.parameterName],
    ['SPIGOT_QUEUE_URL', r.queueUrl],
    ['SPIGOT_DLQ_URL', r.dlqUrl],
    ['SPIGOT_DRAIN_FUNCTION', r.functionName],
    ['SPIGOT_DRAIN_STATUS_PARAMETER', r.drainStatusParameterName],
    ['SPIGOT_DRAIN_LOG_GROUP', r.drainLogGroup],
    ['SPIGOT_ACCESS_LOG_GROUP', r.accessLogGroup],
  ];
  return pairs.filter((p): p is [string, string] => p[1] !== undefined).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
}
