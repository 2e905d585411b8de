/** `spigot open` and `spigot close --reason`. */
import { userInfo } from 'node:os';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { MAX_DESCRIPTION_LENGTH } from '../../functions/shared/spigot-state';
import { step, UsageError } from '../errors';
import { readSpigot, type SpigotReading, type SpigotState } from '../spigot';

export interface SetStateOptions {
  readonly parameterName: string;
  readonly state: SpigotState;
  /** Required to close; optional note when opening. */
  readonly reason?: string;
  /** Who to name in the Description ($USER). */
  readonly operator: string;
}

export interface SetStateResult {
  readonly previous: SpigotReading;
  readonly current: SpigotReading;
  /** True when the spigot was already in the requested state (it is still written, to record who/why). */
  readonly unchanged: boolean;
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

export function describeChange(state: SpigotState, operator: string, reason: string | undefined): string {
  const text = reason?.replace(/\s+/g, ' ').trim();
  const head = `${state === 'open' ? 'opened' : 'closed'} by ${operator} via spigot CLI`;
  const full = text ? `${head}: ${text}` : head;
  return full.length <= MAX_DESCRIPTION_LENGTH ? full : `${full.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`;
}

export async function setState(clients: { ssm: SSMClient }, options: SetStateOptions): Promise<SetStateResult> {
  const reason = options.reason?.trim();
  if (options.state === 'closed' && !reason) {
    throw new UsageError('close needs --reason "..." (it is recorded in the parameter Description for whoever opens it)');
  }
  const previous = await readSpigot(clients.ssm, options.parameterName);
  await step(`writing ${options.state} to ${options.parameterName} (ssm:PutParameter)`, () =>
    clients.ssm.send(
      new PutParameterCommand({
        Name: options.parameterName,
        Value: options.state,
        Type: 'String',
        Overwrite: true,
        Description: describeChange(options.state, options.operator, reason),
      }),
    ),
  );
  const current = await readSpigot(clients.ssm, options.parameterName);
  return { previous, current, unchanged: previous.state === options.state && previous.recognised };
}
