import { Construct } from 'constructs';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';

export interface SpigotParameterOptions {
  readonly name: string;
}

/**
 * The spigot itself: `open` or `closed`. Operators and the drain own its value after the
 * first apply, so Terraform ignores value and description; otherwise every apply would
 * reopen a spigot someone closed for maintenance, and the drift check would flag it.
 */
export class SpigotParameter extends Construct {
  readonly parameter: SsmParameter;
  /** The drain's summary of its last run, for `spigot status`; written by the drain only. */
  readonly drainStatus: SsmParameter;

  constructor(scope: Construct, id: string, options: SpigotParameterOptions) {
    super(scope, id);
    this.parameter = new SsmParameter(this, 'state', {
      name: `/${options.name}/spigot`,
      type: 'String',
      value: 'open',
      description: 'created open by Terraform',
      lifecycle: { ignoreChanges: ['value', 'description'] },
    });
    this.drainStatus = new SsmParameter(this, 'drain-status', {
      name: `/${options.name}/drain-status`,
      type: 'String',
      value: '{}',
      description: 'last drain run, written by the drain (see spigot status)',
      lifecycle: { ignoreChanges: ['value'] },
    });
  }
}
