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
import type { ITerraformDependable } from 'cdktf';
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
  /** @default [] — any source may call the API. */
  readonly allowedSourceCidrs: readonly string[];
  readonly logRetentionDays: number;
  /**
   * Set the account-wide API Gateway CloudWatch role, which stage logging needs.
   * Turn off when the account already has one. @default true
   */
  readonly manageAccountLoggingRole?: boolean;
}

export const STAGE_NAME = 'live';

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
  readonly role: IamRole;
  /** Route path -> its full invoke URL. */
  readonly webhookUrls: Record<string, string> = {};

  constructor(scope: Construct, id: string, options: WebhookApiOptions) {
    super(scope, id);
    this.api = new ApiGatewayRestApi(this, 'api', {
      name: options.name,
      description: 'Spigot: buffers webhooks for Jenkins in an SQS FIFO queue',
      endpointConfiguration: { types: ['REGIONAL'] },
      // Should the API ever be replaced, build the new one before the old one goes (checkov CKV_AWS_237).
      lifecycle: { createBeforeDestroy: true },
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
      options.name, options.region, options.routes, options.allowedSourceCidrs,
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
    if (options.allowedSourceCidrs.length > 0) {
      dependables.push(new ApiGatewayRestApiPolicy(this, 'source-allowlist', {
        restApiId: this.api.id,
        policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{
            Effect: 'Allow',
            Principal: '*',
            Action: 'execute-api:Invoke',
            Resource: `${this.api.executionArn}/*`,
            Condition: { IpAddress: { 'aws:SourceIp': options.allowedSourceCidrs } },
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
      name: `/aws/apigateway/${options.name}/access`,
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    const account = options.manageAccountLoggingRole === false ? undefined : this.accountLoggingRole(options.name);
    this.stage = new ApiGatewayStage(this, 'stage', {
      restApiId: this.api.id,
      deploymentId: deployment.id,
      stageName: STAGE_NAME,
      xrayTracingEnabled: true,
      accessLogSettings: { destinationArn: this.accessLogGroup.arn, format: JSON.stringify(accessLogFormat(options.name)) },
      dependsOn: account ? [account] : undefined,
    });
    new ApiGatewayMethodSettings(this, 'stage-settings', {
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

  private accountLoggingRole(name: string): ApiGatewayAccount {
    const role = new IamRole(this, 'cloudwatch-role', {
      name: `${name}-apigw-cloudwatch`,
      assumeRolePolicy: assumeRolePolicy('apigateway.amazonaws.com'),
    });
    new IamRolePolicyAttachment(this, 'cloudwatch-role-policy', {
      role: role.name,
      policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    });
    return new ApiGatewayAccount(this, 'account', { cloudwatchRoleArn: role.arn });
  }
}

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
