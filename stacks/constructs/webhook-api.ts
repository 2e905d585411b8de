import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { ApiGatewayAccount } from '@cdktf/provider-aws/lib/api-gateway-account';
import { ApiGatewayDeployment } from '@cdktf/provider-aws/lib/api-gateway-deployment';
import { ApiGatewayGatewayResponse } from '@cdktf/provider-aws/lib/api-gateway-gateway-response';
import { ApiGatewayIntegration } from '@cdktf/provider-aws/lib/api-gateway-integration';
import { ApiGatewayIntegrationResponse } from '@cdktf/provider-aws/lib/api-gateway-integration-response';
import { ApiGatewayMethod } from '@cdktf/provider-aws/lib/api-gateway-method';
import { ApiGatewayMethodResponse } from '@cdktf/provider-aws/lib/api-gateway-method-response';
import { ApiGatewayMethodSettings } from '@cdktf/provider-aws/lib/api-gateway-method-settings';
import { ApiGatewayResource } from '@cdktf/provider-aws/lib/api-gateway-resource';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { ApiGatewayRestApiPolicy } from '@cdktf/provider-aws/lib/api-gateway-rest-api-policy';
import { ApiGatewayStage } from '@cdktf/provider-aws/lib/api-gateway-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { TerraformLocal, TerraformStack, type ITerraformDependable } from 'cdktf';
import { SOURCE_CHOICES, type SourcePolicy } from '../source-policy';
import { requestTemplates } from '../ingest/send-message-template';
import {
  JSON_CONTENT_TYPE,
  METHOD_NOT_ALLOWED_TEMPLATE,
  QUEUED_TEMPLATE,
  SQS_REJECTED_TEMPLATE,
  SQS_UNAVAILABLE_TEMPLATE,
  gatewayResponses,
  notQueued,
} from '../ingest/responses';
import { assumeRolePolicy, policyDocument } from './iam';

export interface WebhookApiOptions {
  readonly name: string;
  readonly region: string;
  readonly accountId: string;
  readonly routes: readonly string[];
  readonly queueArn: string;
  readonly queueName: string;
  readonly kmsKeyArn: string;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Who may invoke the API; "unchosen" synthesizes, but plan and apply refuse it. */
  readonly sourcePolicy: SourcePolicy;
  readonly logRetentionDays: number;
  /**
   * Set the account-wide API Gateway CloudWatch role, which stage logging needs. It belongs to
   * the whole account and region, so the stack that owns it refuses to be destroyed.
   * @default false — the account already has one.
   */
  readonly manageAccountLoggingRole?: boolean;
}

export const accessLogGroupName = (name: string): string => `/aws/apigateway/${name}/access`;

/** Where API Gateway writes a stage's execution logs; it creates the group itself unless it exists. */
export const executionLogGroupName = (restApiId: string, stage: string): string => `API-Gateway-Execution-Logs_${restApiId}/${stage}`;

export const STAGE_NAME = 'live';

const SOURCE_POLICY_LOCAL = 'spigot_source_policy';

/** Method responses of the POST route; integration responses map SQS outcomes onto them. */
const SQS_OUTCOMES = [
  { selectionPattern: undefined, statusCode: '202', template: QUEUED_TEMPLATE },
  { selectionPattern: '4\\d{2}', statusCode: '502', template: SQS_REJECTED_TEMPLATE },
  { selectionPattern: '5\\d{2}', statusCode: '503', template: SQS_UNAVAILABLE_TEMPLATE },
] as const;
const OVERRIDE_ONLY_STATUSES = ['413'];

/** The SQS integration's fixed settings (the URI and role are per stack). */
const SQS_INTEGRATION = {
  type: 'AWS',
  integrationHttpMethod: 'POST',
  passthroughBehavior: 'NEVER',
  requestParameters: { 'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'" },
};

/** Any other method on a webhook route: a MOCK that answers 405 with Allow: POST. */
const METHOD_NOT_ALLOWED = {
  passthroughBehavior: 'WHEN_NO_MATCH',
  requestTemplates: { [JSON_CONTENT_TYPE]: '{"statusCode": 405}' },
  responseParameters: { 'method.response.header.Allow': "'POST'" },
  responseTemplates: { [JSON_CONTENT_TYPE]: METHOD_NOT_ALLOWED_TEMPLATE },
};

/**
 * The public edge: a regional REST API whose only routes are the allowlisted webhook
 * paths, each integrated directly with SQS SendMessage (no Lambda). Anything else is
 * refused by API Gateway itself and never reaches the queue.
 */
export class WebhookApi extends Construct {
  readonly api: ApiGatewayRestApi;
  readonly stage: ApiGatewayStage;
  readonly accessLogGroup: CloudwatchLogGroup;
  /** Created here, so it is encrypted, expires and goes with the stack. */
  readonly executionLogGroup: CloudwatchLogGroup;
  readonly role: IamRole;
  /** Route path -> its full invoke URL. */
  readonly webhookUrls: Record<string, string> = {};

  constructor(scope: Construct, id: string, options: WebhookApiOptions) {
    super(scope, id);
    // A local, so the precondition below checks the policy the stack was built with.
    const sourcePolicy = new TerraformLocal(this, 'source-policy', options.sourcePolicy.kind);
    sourcePolicy.overrideLogicalId(SOURCE_POLICY_LOCAL);
    this.api = new ApiGatewayRestApi(this, 'api', {
      name: options.name,
      description: 'Spigot: buffers webhooks for Jenkins in an SQS FIFO queue',
      endpointConfiguration: { types: ['REGIONAL'] },
      lifecycle: {
        // Should the API ever be replaced, build the new one before the old one goes (checkov CKV_AWS_237).
        createBeforeDestroy: true,
        // Synth works on the embedded default; plan and apply refuse to open an API nobody chose the sources of.
        precondition: [{
          condition: `\${local.${SOURCE_POLICY_LOCAL} != "unchosen"}`,
          errorMessage: `allowedSources is not set (nor its older spelling allowedSourceCidrs), so nobody has chosen who may send webhooks to this API: set "allowedSources" in spigot.config.json (or the file SPIGOT_CONFIG names) to ${SOURCE_CHOICES}, synthesize again, then plan or apply.`,
        }],
      },
    });

    this.role = new IamRole(this, 'sqs-role', {
      name: `${options.name}-apigw-sendmessage`,
      assumeRolePolicy: assumeRolePolicy('apigateway.amazonaws.com'),
    });
    new IamRolePolicy(this, 'sqs-role-policy', {
      role: this.role.id,
      name: 'send-to-buffer-only',
      policy: policyDocument([
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: options.queueArn },
        { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: options.kmsKeyArn },
      ]),
    });

    const dependables: ITerraformDependable[] = [];
    // Everything the deployed routes depend on that is known at synth time.
    const fingerprint: unknown[] = [
      // The allowlist only; "anyone" and "unchosen" deploy the same routes, with no resource policy.
      options.name, options.region, options.routes, options.sourcePolicy.kind === 'restricted' ? options.sourcePolicy.cidrs : [],
      SQS_INTEGRATION, SQS_OUTCOMES, OVERRIDE_ONLY_STATUSES, METHOD_NOT_ALLOWED,
    ];
    const resources = new Map<string, ApiGatewayResource>();
    options.routes.forEach((route, index) => {
      const resource = this.resourceFor(route, resources);
      const templates = requestTemplates(route);
      fingerprint.push(templates);
      dependables.push(...this.postToQueue(`route${index}`, resource, templates, options));
      dependables.push(...this.refuseOtherMethods(`route${index}`, resource));
    });
    for (const [type, spec] of Object.entries(gatewayResponses(options.routes))) {
      const template = notQueued(spec.message);
      fingerprint.push(type, spec.statusCode, template);
      dependables.push(new ApiGatewayGatewayResponse(this, `response-${type.toLowerCase()}`, {
        restApiId: this.api.id,
        responseType: type,
        statusCode: spec.statusCode,
        responseTemplates: { [JSON_CONTENT_TYPE]: template },
        responseParameters: { 'gatewayresponse.header.Content-Type': `'${JSON_CONTENT_TYPE}'` },
      }));
    }
    if (options.sourcePolicy.kind === 'restricted') {
      dependables.push(new ApiGatewayRestApiPolicy(this, 'source-allowlist', {
        restApiId: this.api.id,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{
            Effect: 'Allow',
            Principal: '*',
            Action: 'execute-api:Invoke',
            Resource: `${this.api.executionArn}/*`,
            Condition: { IpAddress: { 'aws:SourceIp': options.sourcePolicy.cidrs } },
          }],
        }),
      }));
    }

    const deployment = new ApiGatewayDeployment(this, 'deployment', {
      restApiId: this.api.id,
      description: 'managed by Spigot; replaced whenever routes, templates or responses change',
      triggers: { redeployment: createHash('sha256').update(JSON.stringify(fingerprint)).digest('hex') },
      lifecycle: { createBeforeDestroy: true },
      dependsOn: dependables,
    });

    this.accessLogGroup = new CloudwatchLogGroup(this, 'access-log', {
      name: accessLogGroupName(options.name),
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    this.executionLogGroup = new CloudwatchLogGroup(this, 'execution-log', {
      name: executionLogGroupName(this.api.id, STAGE_NAME),
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    const account = options.manageAccountLoggingRole === true ? this.accountLoggingRole(options.name) : this.forgetAccountLoggingRole();
    this.stage = new ApiGatewayStage(this, 'stage', {
      restApiId: this.api.id,
      deploymentId: deployment.id,
      stageName: STAGE_NAME,
      xrayTracingEnabled: true,
      accessLogSettings: { destinationArn: this.accessLogGroup.arn, format: JSON.stringify(accessLogFormat(options.name)) },
      dependsOn: [this.executionLogGroup, ...(account ? [account] : [])],
    });
    new ApiGatewayMethodSettings(this, 'stage-settings', {
      // Logging starts here: the group must exist first, or API Gateway creates its own.
      dependsOn: [this.executionLogGroup],
      restApiId: this.api.id,
      stageName: this.stage.stageName,
      methodPath: '*/*',
      settings: {
        throttlingRateLimit: options.throttle.rateLimit,
        throttlingBurstLimit: options.throttle.burstLimit,
        metricsEnabled: true,
        loggingLevel: 'ERROR',
        dataTraceEnabled: false, // data trace would log webhook bodies
      },
    });
    for (const route of options.routes) this.webhookUrls[route] = `${this.stage.invokeUrl}${route}`;
  }

  private resourceFor(route: string, resources: Map<string, ApiGatewayResource>): ApiGatewayResource {
    let parentId = this.api.rootResourceId;
    let resource: ApiGatewayResource | undefined;
    let soFar = '';
    for (const part of route.split('/').filter(Boolean)) {
      soFar += `/${part}`;
      resource = resources.get(soFar);
      if (!resource) {
        resource = new ApiGatewayResource(this, `resource-${createHash('sha256').update(soFar).digest('hex').slice(0, 12)}`, {
          restApiId: this.api.id,
          parentId,
          pathPart: part,
        });
        resources.set(soFar, resource);
      }
      parentId = resource.id;
    }
    return resource!;
  }

  private postToQueue(
    id: string,
    resource: ApiGatewayResource,
    templates: Record<string, string>,
    options: WebhookApiOptions,
  ): ITerraformDependable[] {
    const method = new ApiGatewayMethod(this, `${id}-post`, {
      restApiId: this.api.id,
      resourceId: resource.id,
      httpMethod: 'POST',
      // Webhooks authenticate with their signature, which Jenkins verifies on replay.
      authorization: 'NONE',
    });
    const integration = new ApiGatewayIntegration(this, `${id}-sqs`, {
      restApiId: this.api.id,
      resourceId: resource.id,
      httpMethod: method.httpMethod,
      ...SQS_INTEGRATION,
      uri: `arn:aws:apigateway:${options.region}:sqs:path/${options.accountId}/${options.queueName}`,
      credentials: this.role.arn,
      requestTemplates: templates,
    });
    const created: ITerraformDependable[] = [method, integration];
    for (const status of [...SQS_OUTCOMES.map((o) => o.statusCode), ...OVERRIDE_ONLY_STATUSES]) {
      created.push(new ApiGatewayMethodResponse(this, `${id}-post-${status}`, {
        restApiId: this.api.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        statusCode: status,
        responseModels: { [JSON_CONTENT_TYPE]: 'Empty' },
      }));
    }
    for (const outcome of SQS_OUTCOMES) {
      created.push(new ApiGatewayIntegrationResponse(this, `${id}-sqs-${outcome.statusCode}`, {
        restApiId: this.api.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        statusCode: outcome.statusCode,
        selectionPattern: outcome.selectionPattern,
        responseTemplates: { [JSON_CONTENT_TYPE]: outcome.template },
        dependsOn: [integration, ...created.filter((c) => c instanceof ApiGatewayMethodResponse)],
      }));
    }
    return created;
  }

  /** Other methods on a webhook route get a clear 405 instead of API Gateway's 403. */
  private refuseOtherMethods(id: string, resource: ApiGatewayResource): ITerraformDependable[] {
    const method = new ApiGatewayMethod(this, `${id}-any`, {
      restApiId: this.api.id,
      resourceId: resource.id,
      httpMethod: 'ANY',
      authorization: 'NONE',
    });
    const integration = new ApiGatewayIntegration(this, `${id}-any-mock`, {
      restApiId: this.api.id,
      resourceId: resource.id,
      httpMethod: method.httpMethod,
      type: 'MOCK',
      passthroughBehavior: METHOD_NOT_ALLOWED.passthroughBehavior,
      requestTemplates: METHOD_NOT_ALLOWED.requestTemplates,
    });
    const response = new ApiGatewayMethodResponse(this, `${id}-any-405`, {
      restApiId: this.api.id,
      resourceId: resource.id,
      httpMethod: method.httpMethod,
      statusCode: '405',
      responseParameters: { 'method.response.header.Allow': true },
    });
    const integrationResponse = new ApiGatewayIntegrationResponse(this, `${id}-any-mock-405`, {
      restApiId: this.api.id,
      resourceId: resource.id,
      httpMethod: method.httpMethod,
      statusCode: '405',
      responseParameters: METHOD_NOT_ALLOWED.responseParameters,
      responseTemplates: METHOD_NOT_ALLOWED.responseTemplates,
      dependsOn: [integration, response],
    });
    return [method, integration, response, integrationResponse];
  }

  /**
   * Stacks from before 0.2 managed the account role by default. Dropping it from the config
   * would destroy it, so Terraform is told to forget it instead (a no-op for stacks that never had it).
   */
  private forgetAccountLoggingRole(): undefined {
    const stack = TerraformStack.of(this);
    const removed = ACCOUNT_ROLE_RESOURCES.map(([id, type]) => ({
      from: `${type}.${stack.getLogicalId(new Construct(this, id).node)}`,
      lifecycle: { destroy: false },
    }));
    stack.addOverride('removed', removed);
    return undefined;
  }

  /**
   * Destroying aws_api_gateway_account resets the account's role (AWS provider v6), silencing
   * every REST API's logs in the account and region, so none of the three can be destroyed
   * with the stack: hand them over first (README "API Gateway account role").
   */
  private accountLoggingRole(name: string): ApiGatewayAccount {
    const keep = { preventDestroy: true };
    const role = new IamRole(this, 'cloudwatch-role', {
      name: `${name}-apigw-cloudwatch`,
      assumeRolePolicy: assumeRolePolicy('apigateway.amazonaws.com'),
      lifecycle: keep,
    });
    new IamRolePolicyAttachment(this, 'cloudwatch-role-policy', {
      role: role.name,
      policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      lifecycle: keep,
    });
    return new ApiGatewayAccount(this, 'account', { cloudwatchRoleArn: role.arn, lifecycle: keep });
  }
}

/** Construct ids and types of what accountLoggingRole creates; their addresses must not change. */
const ACCOUNT_ROLE_RESOURCES = [
  ['cloudwatch-role', 'aws_iam_role'],
  ['cloudwatch-role-policy', 'aws_iam_role_policy_attachment'],
  ['account', 'aws_api_gateway_account'],
] as const;

/** Access log fields: who called, what route, what happened. Never headers or bodies. */
export const accessLogFormat = (stack: string) => ({
  stack,
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTimeEpoch',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationStatus: '$context.integration.status',
  errorType: '$context.error.responseType',
  userAgent: '$context.identity.userAgent',
});
