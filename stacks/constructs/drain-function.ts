import { Construct } from 'constructs';
import { TerraformLocal } from 'cdktf';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { DrainConfig } from '../config';
import { BundledFunctionAsset } from './bundled-function-asset';
import { assumeRolePolicy, policyDocument, type PolicyStatement } from './iam';
import { drainFunctionName, drainLogGroupName } from '../resource-names';

export interface DrainFunctionOptions {
  readonly name: string;
  readonly region: string;
  readonly accountId: string;
  readonly jenkinsUrl: string;
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly spigotParameterName: string;
  readonly spigotParameterArn: string;
  readonly drainStatusParameterName: string;
  readonly drainStatusParameterArn: string;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly drain: DrainConfig;
  /**
   * Jenkins statuses that never count toward a systemic close, because anyone can cause them
   * (see untrustedRefusalStatuses in ../source-policy.ts). @default [] (every refusal counts)
   */
  readonly untrustedRefusalStatuses?: readonly string[];
  /** Run in these subnets with these security groups (see DrainNetwork). @default undefined (Lambda's own network) */
  readonly vpc?: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] };
}


/** The metric namespace the drain writes (EMF) and the alarms read. */
export const METRICS_NAMESPACE = 'Spigot';

/** Hosts under the reserved `.invalid` TLD never resolve: the embedded default's placeholder is one. */
const PLACEHOLDER_HOST_PATTERN = '^https?://[^/:]+[.]invalid([:/]|$)';
const JENKINS_URL_LOCAL = 'spigot_jenkins_url';

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

    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: drainLogGroupName(options.name),
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    this.failedInvocations = new SqsQueue(this, 'failed-invocations', {
      name: `${options.name}-drain-failed-invocations`,
      messageRetentionSeconds: 14 * 24 * 60 * 60,
      kmsMasterKeyId: options.kmsKeyArn,
    });

    this.leaseQueue = new SqsQueue(this, 'run-lease', {
      name: `${options.name}-drain-lease.fifo`,
      fifoQueue: true,
      messageRetentionSeconds: 14 * 24 * 60 * 60,
      kmsMasterKeyId: options.kmsKeyArn,
    });

    const role = new IamRole(this, 'role', { name: functionName, assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com') });
    const rolePolicy = new IamRolePolicy(this, 'policy', { role: role.id, name: 'drain', policy: policyDocument(drainPermissions(options, this)) });

    const d = options.drain;
    // A local, so the precondition below checks exactly the URL the function gets.
    const jenkinsUrl = new TerraformLocal(this, 'jenkins-url', options.jenkinsUrl);
    jenkinsUrl.overrideLogicalId(JENKINS_URL_LOCAL);
    const environment: Record<string, string> = {
      JENKINS_URL: jenkinsUrl.asString,
      LEASE_QUEUE_URL: this.leaseQueue.url,
      QUEUE_URL: options.queueUrl,
      DLQ_URL: options.deadLetterQueueUrl,
      SPIGOT_PARAMETER_NAME: options.spigotParameterName,
      DRAIN_STATUS_PARAMETER_NAME: options.drainStatusParameterName,
      CONCURRENCY: String(d.concurrency),
      HTTP_TIMEOUT_MS: String(d.httpTimeoutMs),
      MAX_ATTEMPTS: String(d.maxAttempts),
      AUTO_CLOSE_AFTER_FAILURES: String(d.autoCloseAfterFailures),
      REFUSALS_AFTER_WEBHOOKS: String(d.refusals.afterWebhooks),
      REFUSALS_FROM_REPOSITORIES: String(d.refusals.fromRepositories),
      // "none": every refusal is dead-lettered at once (an empty variable would mean the default).
      REFUSAL_STATUSES: d.refusals.statuses.length > 0 ? d.refusals.statuses.join(',') : 'none',
      ...(options.untrustedRefusalStatuses?.length ? { REFUSALS_UNTRUSTED_STATUSES: options.untrustedRefusalStatuses.join(',') } : {}),
      HOLD_SECONDS: String(d.hold.defaultSeconds),
      MIN_HOLD_SECONDS: String(d.hold.minSeconds),
      MAX_HOLD_SECONDS: String(d.hold.maxSeconds),
      PROBE_PATH: d.probe.path,
      PROBE_METHOD: d.probe.method,
      PROBE_EXPECT_STATUS: d.probe.expectStatus.join(','),
      PROBE_TIMEOUT_MS: String(d.probe.timeoutMs),
      LOG_LEVEL: d.logLevel,
      MAX_RUN_SECONDS: String(maxRunSeconds(d.schedule, d.timeoutSeconds)),
      POWERTOOLS_SERVICE_NAME: functionName,
      METRICS_NAMESPACE,
      METRICS_STACK: options.name,
      ...(d.ratePerSecond ? { RATE_PER_SECOND: String(d.ratePerSecond) } : {}),
      ...(d.autoReopenAfterHealthyProbes ? { AUTO_REOPEN_AFTER_HEALTHY_PROBES: String(d.autoReopenAfterHealthyProbes) } : {}),
      ...(d.credentialsParameterName ? { JENKINS_CREDENTIALS_PARAMETER: d.credentialsParameterName } : {}),
      ...(d.webhookSecretParameterName ? { WEBHOOK_SECRET_PARAMETER: d.webhookSecretParameterName } : {}),
    };

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
      environment: { variables: environment },
      ...(options.vpc ? { vpcConfig: { subnetIds: [...options.vpc.subnetIds], securityGroupIds: [...options.vpc.securityGroupIds] } } : {}),
      // In a VPC the role's policy must exist first: Lambda checks the ENI permissions on create.
      dependsOn: options.vpc ? [this.logGroup, rolePolicy] : [this.logGroup],
      lifecycle: {
        // Synth works on the embedded default; plan and apply refuse to point a real drain at it.
        precondition: [{
          condition: `\${length(regexall("${PLACEHOLDER_HOST_PATTERN}", lower(local.${JENKINS_URL_LOCAL}))) == 0}`,
          errorMessage: `jenkinsUrl is ${JSON.stringify(options.jenkinsUrl)}, a placeholder under the reserved .invalid domain that can never be reached: set "jenkinsUrl" in spigot.config.json (or the file SPIGOT_CONFIG names) to your Jenkins base URL, synthesize again, then plan or apply.`,
        }],
      },
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

/**
 * How long one run keeps receiving: until just before the next scheduled run, so runs tile
 * the schedule and a webhook arriving while the spigot is open is released within seconds.
 * Never beyond what the Lambda timeout leaves for finishing the last webhooks.
 */
export function maxRunSeconds(schedule: string, timeoutSeconds: number): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  const unit = rate ? { minute: 60, hour: 3600, day: 86400 }[rate[2].replace(/s$/, '') as 'minute' | 'hour' | 'day'] : 60;
  const period = rate ? Number(rate[1]) * unit : 60; // cron schedules: assume about a minute apart
  return Math.max(10, Math.min(period - 5, timeoutSeconds - 60));
}

/** The EC2 actions AWSLambdaVPCAccessExecutionRole (v3) grants for a function's network interfaces. */
export const VPC_NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/** Least privilege: exactly the calls functions/drain makes, on exactly its resources. */
function drainPermissions(options: DrainFunctionOptions, drain: DrainFunction): PolicyStatement[] {
  const parameterArn = (name: string) =>
    `arn:aws:ssm:${options.region}:${options.accountId}:parameter/${name.replace(/^\//, '')}`;
  const secrets = [options.drain.credentialsParameterName, options.drain.webhookSecretParameterName].filter(
    (name): name is string => name !== undefined,
  );
  const statements: PolicyStatement[] = [
    {
      Sid: 'ReleaseFromBuffer',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      Resource: options.queueArn,
    },
    {
      Sid: 'HoldRunLease',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:SendMessage', 'sqs:GetQueueAttributes'],
      Resource: drain.leaseQueue.arn,
    },
    { Sid: 'DeadLetterPoison', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [options.deadLetterQueueArn, drain.failedInvocations.arn] },
    { Sid: 'ReadAndCloseSpigot', Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:PutParameter'], Resource: options.spigotParameterArn },
    { Sid: 'RecordLastRun', Effect: 'Allow', Action: 'ssm:PutParameter', Resource: options.drainStatusParameterArn },
    { Sid: 'QueueEncryption', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: options.kmsKeyArn },
    { Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${drain.logGroup.arn}:*`,
    },
  ];
  if (options.vpc) {
    // What Lambda needs to manage the function's network interfaces in the user's subnets
    // (the EC2 part of AWSLambdaVPCAccessExecutionRole; its broad logs:* part is not needed).
    // EC2 does not scope Describe calls to resources, and Lambda manages the interfaces itself.
    statements.push({
      Sid: 'VpcNetworkInterfaces',
      Effect: 'Allow',
      Action: VPC_NETWORK_INTERFACE_ACTIONS,
      Resource: '*',
    });
  }
  if (secrets.length > 0) {
    statements.push({ Sid: 'ReadJenkinsSecrets', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: secrets.map(parameterArn) });
    statements.push({
      Sid: 'DecryptSecureStrings',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: `arn:aws:kms:${options.region}:${options.accountId}:key/*`,
      Condition: { StringEquals: { 'kms:ViaService': `ssm.${options.region}.amazonaws.com` } },
    });
  }
  return statements;
}
