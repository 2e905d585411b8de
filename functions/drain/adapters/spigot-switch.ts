import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { latestParameterVersion, parameterVersion } from '../../shared/parameter-history';
import type { SpigotVersion } from '../core/spigot-state';

/** The SSM calls behind the spigot: read it (with its version), and write it. */
export class SpigotSwitch {
  constructor(
    private readonly ssm: SSMClient,
    private readonly parameterName: string,
  ) {}

  async read(): Promise<SpigotVersion> {
    const result = await this.ssm.send(new GetParameterCommand({ Name: this.parameterName }));
    return { value: result.Parameter?.Value, version: result.Parameter?.Version ?? 0 };
  }

  /** The newest version with its description (GetParameter does not return descriptions). */
  async latest(): Promise<SpigotVersion | undefined> {
    return toSpigotVersion(await latestParameterVersion(this.ssm, this.parameterName));
  }

  /** One version from the history, with its description. */
  async version(version: number): Promise<SpigotVersion | undefined> {
    return toSpigotVersion(await parameterVersion(this.ssm, this.parameterName, version));
  }

  /** Writes the value with the drain's bookkeeping in the description; returns the new version. */
  async write(value: string, description: string): Promise<number> {
    const result = await this.ssm.send(
      new PutParameterCommand({ Name: this.parameterName, Value: value, Description: description, Overwrite: true, Type: 'String' }),
    );
    return result.Version ?? 0;
  }
}

function toSpigotVersion(entry: { Value?: string; Version?: number; Description?: string } | undefined): SpigotVersion | undefined {
  if (entry?.Version === undefined) return undefined;
  return { value: entry.Value, version: entry.Version, description: entry.Description };
}

/** Reads a SecureString (Jenkins credentials, webhook secret). The value is never logged. */
export async function readSecret(ssm: SSMClient, name: string): Promise<string> {
  const result = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = result.Parameter?.Value;
  if (!value) throw new Error(`SSM parameter ${name} is empty`);
  return value;
}
