import { Construct } from 'constructs';
import { TerraformLocal } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { DrainConfig } from '../config';
import { drainEnvironment, METRICS_NAMESPACE } from '../drain-environment';
import type { PolicyStatement } from './iam';
import { drainLogGroupName } from '../resource-names';

/** What the drain works on, whichever way it runs. */
export interface DrainCoreOptions {
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
}

/** What only one way of running adds to the drain's permissions. */
export interface DrainPermissionExtras {
  /** Queues besides the DLQ the role may send to (the Lambda's failed-invocations queue). @default [] */
  readonly deadLetterTargets?: readonly string[];
  /** X-Ray segments (the Lambda's active tracing). @default false */
  readonly tracing?: boolean;
  /** The network-interface actions Lambda needs in drain.vpc. @default false */
  readonly vpcNetworkInterfaces?: boolean;
  /** cloudwatch:PutMetricData in the Spigot namespace only (the agent's METRICS_SINK=cloudwatch). @default false */
  readonly putMetricData?: boolean;
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

/** Hosts under the reserved `.invalid` TLD never resolve: the embedded default's placeholder is one. */
const PLACEHOLDER_HOST_PATTERN = '^https?://[^/:]+[.]invalid([:/]|$)';
const JENKINS_URL_LOCAL = 'spigot_jenkins_url';

/**
 * The pieces the drain Lambda and the agent share: the run lease queue, the log group, the
 * environment the drain reads and its permissions. Created by DrainFunction or DrainAgent with
 * the id "Default", which cdktf leaves out of logical ids: these resources keep their addresses
 * whichever construct owns them, so switching drain.mode keeps the lease queue and the logs.
 */
export class DrainCore extends Construct {
  /** Holds the one message whose receipt is the right to run (see run-lease.ts). */
  readonly leaseQueue: SqsQueue;
  readonly logGroup: CloudwatchLogGroup;
  /** The variables the drain reads (Terraform references for the queue URLs). */
  readonly environment: Record<string, string>;
  /** Refuses plan and apply while jenkinsUrl is the placeholder: for the lifecycle of the resource that runs the drain. */
  readonly placeholderPrecondition: { readonly condition: string; readonly errorMessage: string };

  constructor(scope: Construct, id: string, private readonly options: DrainCoreOptions) {
    super(scope, id);
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: drainLogGroupName(options.name),
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    this.leaseQueue = new SqsQueue(this, 'run-lease', {
      name: `${options.name}-drain-lease.fifo`,
      fifoQueue: true,
      messageRetentionSeconds: 14 * 24 * 60 * 60,
      kmsMasterKeyId: options.kmsKeyArn,
    });
    // A local, so the precondition checks exactly the URL the drain gets.
    const jenkinsUrl = new TerraformLocal(this, 'jenkins-url', options.jenkinsUrl);
    jenkinsUrl.overrideLogicalId(JENKINS_URL_LOCAL);
    this.placeholderPrecondition = {
      condition: `\${length(regexall("${PLACEHOLDER_HOST_PATTERN}", lower(local.${JENKINS_URL_LOCAL}))) == 0}`,
      errorMessage: `jenkinsUrl is ${JSON.stringify(options.jenkinsUrl)}, a placeholder under the reserved .invalid domain that can never be reached: set "jenkinsUrl" in spigot.config.json (or the file SPIGOT_CONFIG names) to your Jenkins base URL, synthesize again, then plan or apply.`,
    };
    this.environment = drainEnvironment({
      name: options.name,
      jenkinsUrl: jenkinsUrl.asString,
      queueUrl: options.queueUrl,
      deadLetterQueueUrl: options.deadLetterQueueUrl,
      leaseQueueUrl: this.leaseQueue.url,
      spigotParameterName: options.spigotParameterName,
      drainStatusParameterName: options.drainStatusParameterName,
      drain: options.drain,
      untrustedRefusalStatuses: options.untrustedRefusalStatuses,
    });
  }

  /** Least privilege: exactly the calls functions/drain makes, on exactly its resources, plus `extras`. */
  permissions(extras: DrainPermissionExtras = {}): PolicyStatement[] {
    const o = this.options;
    const parameterArn = (name: string) => `arn:aws:ssm:${o.region}:${o.accountId}:parameter/${name.replace(/^\//, '')}`;
    const secrets = [o.drain.credentialsParameterName, o.drain.webhookSecretParameterName].filter((name): name is string => name !== undefined);
    const statements: PolicyStatement[] = [
      {
        Sid: 'ReleaseFromBuffer',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
        Resource: o.queueArn,
      },
      {
        Sid: 'HoldRunLease',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:SendMessage', 'sqs:GetQueueAttributes'],
        Resource: this.leaseQueue.arn,
      },
      { Sid: 'DeadLetterPoison', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [o.deadLetterQueueArn, ...(extras.deadLetterTargets ?? [])] },
      { Sid: 'ReadAndCloseSpigot', Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:PutParameter'], Resource: o.spigotParameterArn },
      { Sid: 'RecordLastRun', Effect: 'Allow', Action: 'ssm:PutParameter', Resource: o.drainStatusParameterArn },
      { Sid: 'QueueEncryption', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: o.kmsKeyArn },
    ];
    if (extras.tracing) statements.push({ Sid: 'Tracing', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' });
    statements.push({ Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${this.logGroup.arn}:*` });
    if (extras.putMetricData) {
      // PutMetricData has no resource to scope to; the namespace condition is its only limit.
      statements.push({
        Sid: 'PublishMetrics',
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
      });
    }
    if (extras.vpcNetworkInterfaces) {
      // What Lambda needs to manage the function's network interfaces in the user's subnets
      // (the EC2 part of AWSLambdaVPCAccessExecutionRole; its broad logs:* part is not needed).
      // EC2 does not scope Describe calls to resources, and Lambda manages the interfaces itself.
      statements.push({ Sid: 'VpcNetworkInterfaces', Effect: 'Allow', Action: VPC_NETWORK_INTERFACE_ACTIONS, Resource: '*' });
    }
    if (secrets.length > 0) {
      statements.push({ Sid: 'ReadJenkinsSecrets', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: secrets.map(parameterArn) });
      statements.push({
        Sid: 'DecryptSecureStrings',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: `arn:aws:kms:${o.region}:${o.accountId}:key/*`,
        Condition: { StringEquals: { 'kms:ViaService': `ssm.${o.region}.amazonaws.com` } },
      });
    }
    return statements;
  }
}
