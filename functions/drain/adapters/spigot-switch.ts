import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { latestParameterVersion } from '../../shared/parameter-history';

export interface SpigotReading {
  readonly value?: string;
  readonly description?: string;
}

/** The SSM calls behind the spigot: read it, and write it (closing with a reason). */
export class SpigotSwitch {
  constructor(
    private readonly ssm: SSMClient,
    private readonly parameterName: string,
  ) {}

  async read(): Promise<SpigotReading> {
    const result = await this.ssm.send(new GetParameterCommand({ Name: this.parameterName }));
    return { value: result.Parameter?.Value };
  }

  /** The description of the newest version (GetParameter does not return descriptions). */
  async latestDescription(): Promise<string | undefined> {
    return (await latestParameterVersion(this.ssm, this.parameterName))?.Description;
  }

  /**
   * The drain keeps its own bookkeeping the drain keeps its own bookkeeping
   * (who closed it, healthy probes since) in the description.
   */
  async write(value: 'open' | 'closed', description: string): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({ Name: this.parameterName, Value: value, Description: description, Overwrite: true, Type: 'String' }),
    );
  }
}

/** Reads a SecureString (Jenkins credentials, webhook secret). The value is never logged. */
export async function readSecret(ssm: SSMClient, name: string): Promise<string> {
  const result = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = result.Parameter?.Value;
  if (!value) throw new Error(`SSM parameter ${name} is empty`);
  return value;
}
