/** `spigot open [--force]` and `spigot close --reason`. */
import { userInfo } from 'node:os';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { MAX_DESCRIPTION_LENGTH } from '../../functions/shared/spigot-state';
import { CliError, step, UsageError } from '../errors';
import { ago } from '../format';
import { judgeOpen, type OpenVerdict } from '../open-guard';
import { readSpigot, type SpigotReading, type SpigotState } from '../spigot';

export interface SetStateOptions {
  readonly parameterName: string;
  readonly state: SpigotState;
  /** Required to close; optional note when opening. */
  readonly reason?: string;
  /** Who to name in the Description ($USER). */
  readonly operator: string;
  /** Open even over someone else's close. */
  readonly force?: boolean;
}

export interface SetStateResult {
  readonly previous: SpigotReading;
  readonly current: SpigotReading;
  /** True when the spigot was already in the requested state (it is still written, to record who/why). */
  readonly unchanged: boolean;
  /** For open: why it was free to open, or the close --force overrode. */
  readonly verdict?: OpenVerdict;
  /** True when another write landed between reading and writing (SSM has no compare-and-set). */
  readonly raced: boolean;
}

/** The one-line refusal: who closed it, when, why, and the two ways on. */
export function refusalMessage(verdict: Extract<OpenVerdict, { kind: 'guarded' }>, now: Date = new Date()): string {
  const when = verdict.closedAt ? `${verdict.closedAt} (${ago(verdict.closedAt, now)})` : 'an unknown time';
  const why = verdict.reason ? JSON.stringify(verdict.reason) : '(no description)';
  return (
    `not opening: the spigot was closed by ${verdict.closedBy} at ${when}, version ${verdict.version ?? '?'}: ${why}; ` +
    'that close is neither yours nor the drain\'s own auto-close: ask whoever closed it, or pass --force to open it anyway'
  );
}

/** $USER, then $LOGNAME/$USERNAME, then the OS account. */
export function operatorName(env: NodeJS.ProcessEnv): string {
  const fromEnv = [env.SPIGOT_OPERATOR, env.USER, env.LOGNAME, env.USERNAME].find((v) => v !== undefined && v.trim() !== '');
  if (fromEnv !== undefined) return fromEnv.trim();
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function describeChange(state: SpigotState, operator: string, reason: string | undefined, forcedOver?: string): string {
  const text = reason?.replace(/\s+/g, ' ').trim();
  const forced = forcedOver === undefined ? '' : ` (--force over: ${forcedOver.replace(/\s+/g, ' ').trim()})`;
  const head = `${state === 'open' ? 'opened' : 'closed'} by ${operator} via spigot CLI${forced}`;
  const full = text ? `${head}: ${text}` : head;
  return full.length <= MAX_DESCRIPTION_LENGTH ? full : `${full.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`;
}

export async function setState(clients: { ssm: SSMClient }, options: SetStateOptions): Promise<SetStateResult> {
  const reason = options.reason?.trim();
  if (options.state === 'closed' && !reason) {
    throw new UsageError('close needs --reason "..." (it is recorded in the parameter Description for whoever opens it)');
  }
  const previous = await readSpigot(clients.ssm, options.parameterName);
  const verdict = options.state === 'open' ? judgeOpen(previous, options.operator) : undefined;
  if (verdict?.kind === 'guarded' && !options.force) throw new CliError(refusalMessage(verdict));
  const forcedOver = verdict?.kind === 'guarded' ? (verdict.reason ?? `a close by ${verdict.closedBy}`) : undefined;
  await step(`writing ${options.state} to ${options.parameterName} (ssm:PutParameter)`, () =>
    clients.ssm.send(
      new PutParameterCommand({
        Name: options.parameterName,
        Value: options.state,
        Type: 'String',
        Overwrite: true,
        Description: describeChange(options.state, options.operator, reason, forcedOver),
      }),
    ),
  );
  const current = await readSpigot(clients.ssm, options.parameterName);
  const raced = previous.version !== null && current.version !== null && current.version !== previous.version + 1;
  return { previous, current, unchanged: previous.state === options.state && previous.recognised, verdict, raced };
}
