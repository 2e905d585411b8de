import { Construct } from 'constructs';
import type { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamGroup } from '@cdktf/provider-aws/lib/iam-group';
import { IamGroupPolicy } from '@cdktf/provider-aws/lib/iam-group-policy';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamUser } from '@cdktf/provider-aws/lib/iam-user';
import { IamUserGroupMembership } from '@cdktf/provider-aws/lib/iam-user-group-membership';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { DrainAgentConfig } from '../config';
import { agentEnvironment, DEFAULT_AGENT_METRICS_SINK } from '../drain-environment';
import { DrainCore, type DrainCoreOptions } from './drain-core';
import { policyDocument, trustPolicy } from './iam';
import { drainFunctionName } from '../resource-names';

export interface DrainAgentOptions extends DrainCoreOptions {
  /** Who runs the agent, and its metrics sink (validated: at least one identity is chosen). */
  readonly agent: DrainAgentConfig;
}

/**
 * drain.mode "agent": no Lambda and no schedule, only what the drain process next to Jenkins
 * needs. A role with exactly its permissions (the drain's, without the Lambda-only ones) that
 * the configured principals may assume; optionally an EC2 instance profile, and a user that gets
 * the same policy through a group. Terraform never creates an access key: it would be a secret
 * in the state (README "Behind a firewall (agent)": `aws iam create-access-key`).
 */
export class DrainAgent extends Construct {
  readonly role: IamRole;
  readonly instanceProfile?: IamInstanceProfile;
  readonly user?: IamUser;
  readonly logGroup: CloudwatchLogGroup;
  readonly leaseQueue: SqsQueue;
  /** The agent's variables, without secrets (the secrets' parameter names only): the agent_environment output. */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, options: DrainAgentOptions) {
    super(scope, id);
    const name = `${drainFunctionName(options.name)}-agent`;
    // "Default": the lease queue and the log group keep their logical ids across drain.mode.
    const core = new DrainCore(this, 'Default', options);
    this.logGroup = core.logGroup;
    this.leaseQueue = core.leaseQueue;
    this.environment = agentEnvironment(core.environment, options.region, options.drain);
    const policy = policyDocument(core.permissions({ putMetricData: (options.agent.metricsSink ?? DEFAULT_AGENT_METRICS_SINK) === 'cloudwatch' }));

    if (options.agent.createUser) {
      this.user = new IamUser(this, 'user', { name, path: '/spigot/' });
      // Through a group, not on the user: permissions stay on roles and groups only.
      const group = new IamGroup(this, 'group', { name, path: '/spigot/' });
      new IamGroupPolicy(this, 'group-policy', { group: group.name, name: 'drain-agent', policy });
      new IamUserGroupMembership(this, 'membership', { user: this.user.name, groups: [group.name] });
    }
    this.role = new IamRole(this, 'agent-role', {
      name,
      description: 'Spigot drain agent: releases buffered webhooks to Jenkins from next to it',
      assumeRolePolicy: trustPolicy({
        // The user may assume the role too, so agent_role_arn works whichever identity runs the agent.
        aws: [...(options.agent.assumeRolePrincipals ?? []), ...(this.user ? [this.user.arn] : [])],
        services: options.agent.instanceProfile ? ['ec2.amazonaws.com'] : [],
      }),
      maxSessionDuration: 3600,
      // Synth works on the embedded default; plan and apply refuse to create an agent identity for it.
      lifecycle: { precondition: [core.placeholderPrecondition] },
    });
    new IamRolePolicy(this, 'agent-policy', { role: this.role.id, name: 'drain-agent', policy });
    if (options.agent.instanceProfile) {
      this.instanceProfile = new IamInstanceProfile(this, 'instance-profile', { name, role: this.role.name });
    }
  }
}
