/** Reading and interpreting the spigot parameter (shared by `status`, `open` and `close`). */
import { GetParameterHistoryCommand, ParameterNotFound, type ParameterHistory, type SSMClient } from '@aws-sdk/client-ssm';
import { CliError, step } from './errors';

export type SpigotState = 'open' | 'closed';

export interface SpigotReading {
  readonly state: SpigotState;
  /** False when the value is none of open/closed/on/off: the spigot then counts as closed. */
  readonly recognised: boolean;
  /** The raw parameter value. */
  readonly value: string;
  readonly parameterName: string;
  readonly version: number | null;
  /** Who made the last change (SSM LastModifiedUser, an IAM ARN). */
  readonly changedBy: string | null;
  /** ISO-8601 time of the last change. */
  readonly changedAt: string | null;
  /** The parameter Description of the last change: why it was changed. */
  readonly reason: string | null;
}

const OPEN = new Set(['open', 'on']);
const CLOSED = new Set(['closed', 'off']);

/** Case-insensitive; `on`/`off` are aliases; anything else is closed, and flagged as unrecognised. */
export function interpretSpigotValue(value: string): { state: SpigotState; recognised: boolean } {
  const normalised = value.trim().toLowerCase();
  if (OPEN.has(normalised)) return { state: 'open', recognised: true };
  if (CLOSED.has(normalised)) return { state: 'closed', recognised: true };
  return { state: 'closed', recognised: false };
}

/** The current value and its who/when/why, from the last entry of GetParameterHistory. */
export async function readSpigot(ssm: SSMClient, parameterName: string): Promise<SpigotReading> {
  let last: ParameterHistory | undefined;
  let nextToken: string | undefined;
  do {
    const page = await step(`reading the history of ${parameterName} (ssm:GetParameterHistory)`, async () => {
      try {
        return await ssm.send(new GetParameterHistoryCommand({ Name: parameterName, MaxResults: 50, NextToken: nextToken }));
      } catch (error) {
        if (error instanceof ParameterNotFound) {
          throw new CliError(`the spigot parameter ${parameterName} does not exist (wrong --parameter or region? deployed?)`);
        }
        throw error;
      }
    });
    const entries = page.Parameters ?? [];
    if (entries.length > 0) last = entries[entries.length - 1];
    nextToken = page.NextToken;
  } while (nextToken);
  if (last === undefined || last.Value === undefined) {
    throw new CliError(`the spigot parameter ${parameterName} has no history`);
  }
  const { state, recognised } = interpretSpigotValue(last.Value);
  return {
    state,
    recognised,
    value: last.Value,
    parameterName,
    version: last.Version ?? null,
    changedBy: last.LastModifiedUser ?? null,
    changedAt: last.LastModifiedDate ? last.LastModifiedDate.toISOString() : null,
    reason: last.Description ?? null,
  };
}
