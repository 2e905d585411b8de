/** Reading and interpreting the spigot parameter (shared by `status`, `open` and `close`). */
import { ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { latestParameterVersion } from '../functions/shared/parameter-history';
import { parseSpigotState, type SpigotState } from '../functions/shared/spigot-state';
import { CliError, step } from './errors';

export type { SpigotState };

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

/** The current value and its who/when/why, from the last entry of GetParameterHistory. */
export async function readSpigot(ssm: SSMClient, parameterName: string): Promise<SpigotReading> {
  const last = await step(`reading the history of ${parameterName} (ssm:GetParameterHistory)`, async () => {
    try {
      return await latestParameterVersion(ssm, parameterName);
    } catch (error) {
      if (error instanceof ParameterNotFound) {
        throw new CliError(`the spigot parameter ${parameterName} does not exist (wrong stack, --parameter or region? deployed?)`);
      }
      throw error;
    }
  });
  if (last === undefined || last.Value === undefined) {
    throw new CliError(`the spigot parameter ${parameterName} has no history`);
  }
  const { state, recognised } = parseSpigotState(last.Value);
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
