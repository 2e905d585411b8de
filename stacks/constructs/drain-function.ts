import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import type { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { BundledFunctionAsset } from './bundled-function-asset';
import { DrainCore, type DrainCoreOptions } from './drain-core';
import { assumeRolePolicy, policyDocument } from './iam';
import { drainFunctionName } from '../resource-names';

export interface DrainFunctionOptions extends DrainCoreOptions {
  /** Run in these subnets with these security groups (see DrainNetwork). @default undefined (Lambda's own network) */
  readonly vpc?: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] };
}

/**
 * The drain Lambda and what starts it: a schedule, and any change to the spigot
 * parameter so that opening the spigot starts releasing within seconds. One run at a
 * time comes from the run lease (functions/drain/adapters/run-lease.ts), which works on
 * every account; reserved concurrency is optional on top (README "One drain at a time").
 */
export class DrainFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: CloudwatchLogGroup;
  readonly failedInvocations: SqsQueue;
  /** Holds the one message whose receipt is the right to run (see run-lease.ts). */
  readonly leaseQueue: SqsQueue;

  constructor(scope: Construct, id: string, options: DrainFunctionOptions) {
    super(scope, id);
    const functionName = drainFunctionName(options.name);
    const { asset } = new BundledFunctionAsset(this, 'bundle', { entry: 'functions/drain/index.ts', outDir: 'dist/drain' });
    // "Default": the shared resources keep the logical ids they had when this construct created them.
    const core = new DrainCore(this, 'Default', options);
    this.logGroup = core.logGroup;
    this.leaseQueue = core.leaseQueue;
    this.failedInvocations = new SqsQueue(this, 'failed-invocations', {
      name: `${options.name}-drain-failed-invocations`,
      messageRetentionSeconds: 14 * 24 * 60 * 60,
      kmsMasterKeyId: options.kmsKeyArn,
    });

    const role = new IamRole(this, 'role', { name: functionName, assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com') });
    const permissions = core.permissions({ deadLetterTargets: [this.failedInvocations.arn], tracing: true, vpcNetworkInterfaces: options.vpc !== undefined });
    const rolePolicy = new IamRolePolicy(this, 'policy', { role: role.id, name: 'drain', policy: policyDocument(permissions) });

    const d = options.drain;
    this.function = new LambdaFunction(this, 'function', {
      functionName,
      description: 'Spigot drain: releases held webhooks to Jenkins while the spigot is open',
      role: role.arn,
      runtime: 'nodejs22.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      timeout: d.timeoutSeconds,
      memorySize: d.memoryMb,
      reservedConcurrentExecutions: d.reservedConcurrency,
      kmsKeyArn: options.kmsKeyArn,
      tracingConfig: { mode: 'Active' },
      deadLetterConfig: { targetArn: this.failedInvocations.arn },
      // Lambda's own filter stays at INFO: it treats the EMF metric lines (no level field) as
      // INFO, so WARN here would drop every metric. LOG_LEVEL filters the drain's own logs.
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name, applicationLogLevel: d.logLevel === 'DEBUG' ? 'DEBUG' : 'INFO', systemLogLevel: 'WARN' },
      environment: { variables: core.environment },
      ...(options.vpc ? { vpcConfig: { subnetIds: [...options.vpc.subnetIds], securityGroupIds: [...options.vpc.securityGroupIds] } } : {}),
      // In a VPC the role's policy must exist first: Lambda checks the ENI permissions on create.
      dependsOn: options.vpc ? [this.logGroup, rolePolicy] : [this.logGroup],
      // Synth works on the embedded default; plan and apply refuse to point a real drain at it.
      lifecycle: { precondition: [core.placeholderPrecondition] },
    });
    new LambdaFunctionEventInvokeConfig(this, 'async', {
      functionName: this.function.functionName,
      // A drain that could not start is replaced by the next scheduled one; retries only pile up.
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: 120,
    });

    this.trigger('schedule', { scheduleExpression: d.schedule, description: 'Spigot drain schedule' });
    this.trigger('spigot-changed', {
      description: 'Run the drain as soon as the spigot parameter changes',
      eventPattern: JSON.stringify({
        source: ['aws.ssm'],
        'detail-type': ['Parameter Store Change'],
        detail: { name: [options.spigotParameterName], operation: ['Create', 'Update'] },
      }),
    });
  }

  private trigger(id: string, rule: { scheduleExpression?: string; eventPattern?: string; description: string }): void {
    const eventRule = new CloudwatchEventRule(this, id, { name: `${this.function.functionName}-${id}`, ...rule });
    new CloudwatchEventTarget(this, `${id}-target`, { rule: eventRule.name, arn: this.function.arn });
    new LambdaPermission(this, `${id}-permission`, {
      statementId: `events-${id}`,
      action: 'lambda:InvokeFunction',
      functionName: this.function.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: eventRule.arn,
    });
  }
}
