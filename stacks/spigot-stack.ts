import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { SpigotConfig } from './config';
import { assertJenkinsReachable } from './jenkins-reach';
import { BufferQueue } from './constructs/buffer-queue';
import { CustomDomain } from './constructs/custom-domain';
import { DrainAgent } from './constructs/drain-agent';
import type { DrainCoreOptions } from './constructs/drain-core';
import { DrainFunction } from './constructs/drain-function';
import { DrainNetwork } from './constructs/drain-network';
import { drainLogGroupName } from './resource-names';
import { EncryptionKey } from './constructs/encryption-key';
import { Operations } from './constructs/operations';
import { SourceRateLimit } from './constructs/source-rate-limit';
import { SpigotParameter } from './constructs/spigot-parameter';
import { STAGE_NAME, WebhookApi, accessLogGroupName, executionLogGroupName } from './constructs/webhook-api';
import { resolveSourcePolicy, untrustedRefusalStatuses } from './source-policy';
import { configureBackend } from './state-backend';

/** Terraform versions the synthesized JSON is written for; .terraform-version must satisfy it. */
export const REQUIRED_TERRAFORM_VERSION = '>= 1.9.8, < 2.0.0';

/** The queue's visibility timeout outlives a whole drain run, so nothing being sent reappears. */
export const visibilityTimeoutFor = (drainTimeoutSeconds: number): number => drainTimeoutSeconds + 60;

/** One Spigot environment: edge, buffer, spigot, drain, alarms. */
export class SpigotStack extends TerraformStack {
  readonly api: WebhookApi;
  readonly buffer: BufferQueue;
  readonly spigot: SpigotParameter;
  /** The drain Lambda (drain.mode "lambda"), or the agent's identity (drain.mode "agent"). */
  readonly drain: DrainFunction | DrainAgent;
  readonly operations: Operations;
  readonly domain?: CustomDomain;
  readonly rateLimit?: SourceRateLimit;
  readonly drainNetwork?: DrainNetwork;
  /** Route -> the URL senders should be configured with (the custom domain's, when there is one). */
  readonly webhookUrls: Record<string, string>;

  constructor(scope: Construct, id: string, config: SpigotConfig) {
    super(scope, id);
    // Refused at synth, not in validateConfig, which `spigot doctor` also runs on configs for a loopback test Jenkins.
    assertJenkinsReachable(config);
    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM_VERSION);
    configureBackend(this, id, config.backend);
    new AwsProvider(this, 'aws', {
      region: config.region,
      defaultTags: [{ tags: { Application: 'spigot', SpigotStack: config.name, ...config.tags } }],
    });

    const encryption = new EncryptionKey(this, 'encryption', { name: config.name, region: config.region });
    const { key, accountId } = encryption;
    this.buffer = new BufferQueue(this, 'buffer', {
      name: config.name,
      kmsKeyArn: key.arn,
      visibilityTimeoutSeconds: visibilityTimeoutFor(config.drain.timeoutSeconds),
      maxReceiveCount: config.maxReceiveCount,
    });
    this.spigot = new SpigotParameter(this, 'spigot', { name: config.name });
    const sourcePolicy = resolveSourcePolicy(config);
    this.api = new WebhookApi(this, 'ingest', {
      name: config.name,
      region: config.region,
      accountId,
      routes: config.routes,
      queueArn: this.buffer.queue.arn,
      queueName: this.buffer.queue.name,
      kmsKeyArn: key.arn,
      throttle: config.throttle,
      sourcePolicy,
      logRetentionDays: config.logRetentionDays,
      manageAccountLoggingRole: config.manageApiGatewayAccountRole,
    });
    if (config.drain.vpc) {
      this.drainNetwork = new DrainNetwork(this, 'drain-network', { name: config.name, region: config.region, jenkinsUrl: config.jenkinsUrl, vpc: config.drain.vpc });
    }
    const drain: DrainCoreOptions = {
      name: config.name,
      region: config.region,
      accountId,
      jenkinsUrl: config.jenkinsUrl,
      queueArn: this.buffer.queue.arn,
      queueUrl: this.buffer.queue.url,
      deadLetterQueueArn: this.buffer.deadLetterQueue.arn,
      deadLetterQueueUrl: this.buffer.deadLetterQueue.url,
      spigotParameterName: this.spigot.parameter.name,
      spigotParameterArn: this.spigot.parameter.arn,
      drainStatusParameterName: this.spigot.drainStatus.name,
      drainStatusParameterArn: this.spigot.drainStatus.arn,
      kmsKeyArn: key.arn,
      logRetentionDays: config.logRetentionDays,
      drain: config.drain,
      untrustedRefusalStatuses: untrustedRefusalStatuses(sourcePolicy, config.drain),
    };
    // validateConfig guarantees drain.agent in agent mode.
    this.drain = config.drain.mode === 'agent'
      ? new DrainAgent(this, 'drain', { ...drain, agent: config.drain.agent! })
      : new DrainFunction(this, 'drain', { ...drain, vpc: this.drainNetwork });
    if (config.waf) {
      this.rateLimit = new SourceRateLimit(this, 'waf', { name: config.name, stageArn: this.api.stage.arn, ratePer5Minutes: config.waf.ratePer5Minutes });
    }
    encryption.encryptLogGroups([
      drainLogGroupName(config.name),
      accessLogGroupName(config.name),
      executionLogGroupName(this.api.api.id, STAGE_NAME),
    ]);
    this.operations = new Operations(this, 'operations', {
      name: config.name,
      region: config.region,
      kmsKeyArn: key.arn,
      apiName: this.api.api.name,
      stageName: STAGE_NAME,
      queueName: this.buffer.queue.name,
      deadLetterQueueName: this.buffer.deadLetterQueue.name,
      drain: this.drain instanceof DrainFunction ? { mode: 'lambda', functionName: this.drain.function.functionName } : { mode: 'agent' },
      accessLogGroupName: this.api.accessLogGroup.name,
      waf: this.rateLimit?.metricNames,
      alarms: config.alarms,
    });

    if (config.domain) {
      this.domain = new CustomDomain(this, 'domain', { domain: config.domain, restApiId: this.api.api.id, stageName: this.api.stage.stageName });
    }
    const baseUrl = this.domain?.baseUrl;
    this.webhookUrls = baseUrl ? Object.fromEntries(config.routes.map((route) => [route, `${baseUrl}${route}`])) : this.api.webhookUrls;

    config.routes.forEach((route, i) => {
      new TerraformOutput(this, `webhook_url_${i}`, { value: this.webhookUrls[route], description: `Webhook URL to configure for POST ${route}` });
    });
    const outputs: Record<string, [string, string]> = {
      queue_url: [this.buffer.queue.url, 'Buffer queue (FIFO) URL'],
      dlq_url: [this.buffer.deadLetterQueue.url, 'Dead-letter queue URL'],
      spigot_parameter_name: [this.spigot.parameter.name, 'SSM parameter holding open/closed'],
      drain_status_parameter_name: [this.spigot.drainStatus.name, 'SSM parameter holding the last drain run summary'],
      ...(this.drain instanceof DrainFunction ? { drain_function_name: [this.drain.function.functionName, 'Drain Lambda function name'] as [string, string] } : {}),
      alarm_topic_arn: [this.operations.topic.arn, 'SNS topic that receives the alarms'],
      api_invoke_url: [this.api.stage.invokeUrl, 'Base invoke URL of the webhook API'],
    };
    for (const [name, [value, description]] of Object.entries(outputs)) new TerraformOutput(this, name, { value, description });
    if (this.drain instanceof DrainAgent) this.agentOutputs(this.drain);
    if (this.drainNetwork?.securityGroup) {
      new TerraformOutput(this, 'drain_security_group_id', { value: this.drainNetwork.securityGroup.id, description: "The drain's security group: admit it in Jenkins' security group on Jenkins' port" });
    }
    new TerraformOutput(this, 'webhook_urls', { value: this.webhookUrls, description: 'Webhook URL to configure in the sender, for each route' });
    if (this.domain) {
      new TerraformOutput(this, 'stage_webhook_urls', { value: this.api.webhookUrls, description: 'The same routes on the execute-api URL (changes if the REST API is replaced)' });
      new TerraformOutput(this, 'custom_domain_target', {
        value: { name: this.domain.domainName.regionalDomainName, zone_id: this.domain.domainName.regionalZoneId },
        description: config.domain?.hostedZoneId
          ? 'Where the Route 53 alias record points'
          : `Create a CNAME for ${config.domain?.name} to this name (or an alias A record to it in Route 53)`,
      });
    }
  }

  /** What `spigot agent`, `--print-env` and whoever sets the agent up need; nothing secret. */
  private agentOutputs(agent: DrainAgent): void {
    new TerraformOutput(this, 'agent_role_arn', { value: agent.role.arn, description: 'Role the drain agent runs as (assume it, or use the instance profile or user)' });
    if (agent.instanceProfile) {
      new TerraformOutput(this, 'agent_instance_profile_name', { value: agent.instanceProfile.name, description: 'EC2 instance profile with the agent role, for an agent on EC2' });
    }
    if (agent.user) {
      new TerraformOutput(this, 'agent_user_name', { value: agent.user.name, description: 'IAM user for an agent outside AWS: create its key with aws iam create-access-key --user-name <this>' });
    }
    new TerraformOutput(this, 'agent_environment', { value: agent.environment, description: 'Environment of the drain agent (npx spigot agent --print-env); secret parameter names only, never values' });
  }
}
