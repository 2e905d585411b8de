import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { ApiGatewayDeployment } from '@cdktf/provider-aws/lib/api-gateway-deployment';
import { ApiGatewayMethodSettings } from '@cdktf/provider-aws/lib/api-gateway-method-settings';
import { ApiGatewayRestApiPolicy } from '@cdktf/provider-aws/lib/api-gateway-rest-api-policy';
import { ApiGatewayStage } from '@cdktf/provider-aws/lib/api-gateway-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DEFAULT_CONFIG } from '../../stacks/config';
import { onlyResourceOfType, parseReference, ref, requestTemplatesFromSynth, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

Testing.setupJest();

const redeploymentHash = (parsed: SynthesizedStack): string => onlyResourceOfType(parsed, 'aws_api_gateway_deployment')[1].triggers.redeployment;

describe('stage and deployment', () => {
  const { json, parsed } = synthStack();
  const [apiId] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api');
  const [stageId, stage] = onlyResourceOfType(parsed, 'aws_api_gateway_stage');
  const [deploymentId, deployment] = onlyResourceOfType(parsed, 'aws_api_gateway_deployment');

  it('when synthesized with defaults, the stage writes access logs to a log group with the configured retention', () => {
    const target = parseReference(stage.access_log_settings.destination_arn)!;
    expect(target).toMatchObject({ type: 'aws_cloudwatch_log_group', attribute: 'arn' });
    const logGroup = resourcesOfType(parsed, 'aws_cloudwatch_log_group')[target.id];
    expect(logGroup).toMatchObject({ name: '/aws/apigateway/spigot/access', retention_in_days: DEFAULT_CONFIG.logRetentionDays });
    expect(logGroup.kms_key_id).toBe(ref('aws_kms_key', onlyResourceOfType(parsed, 'aws_kms_key')[0], 'arn'));
    const format = JSON.parse(stage.access_log_settings.format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(JSON.stringify(format)).not.toMatch(/\$input|requestOverride|\.header/);
  });

  it('when logRetentionDays is configured, the access log group uses it', () => {
    const { json: other } = synthStack({ logRetentionDays: 30 });
    expect(other).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/apigateway/spigot/access', retention_in_days: 30 });
  });

  it('when synthesized with defaults, the stage traces with X-Ray and serves the current deployment', () => {
    expect(json).toHaveResourceWithProperties(ApiGatewayStage, {
      stage_name: 'live',
      xray_tracing_enabled: true,
      deployment_id: ref('aws_api_gateway_deployment', deploymentId, 'id'),
      rest_api_id: ref('aws_api_gateway_rest_api', apiId, 'id'),
    });
  });

  it('when synthesized with defaults, every method is throttled from config and data tracing is off', () => {
    expect(json).toHaveResourceWithProperties(ApiGatewayMethodSettings, {
      method_path: '*/*',
      stage_name: ref('aws_api_gateway_stage', stageId, 'stage_name'),
      settings: expect.objectContaining({
        throttling_rate_limit: DEFAULT_CONFIG.throttle.rateLimit,
        throttling_burst_limit: DEFAULT_CONFIG.throttle.burstLimit,
        data_trace_enabled: false,
        metrics_enabled: true,
      }),
    });
  });

  it('when throttle is configured, the method settings use it', () => {
    const { json: other } = synthStack({ throttle: { rateLimit: 7, burstLimit: 9 } });
    expect(other).toHaveResourceWithProperties(ApiGatewayMethodSettings, {
      settings: expect.objectContaining({ throttling_rate_limit: 7, throttling_burst_limit: 9 }),
    });
  });

  it('when synthesized with defaults, the deployment has a redeployment trigger and is created before it is destroyed', () => {
    expect(json).toHaveResourceWithProperties(ApiGatewayDeployment, {
      rest_api_id: ref('aws_api_gateway_rest_api', apiId, 'id'),
      lifecycle: { create_before_destroy: true },
      triggers: { redeployment: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });

  it('when synthesized with defaults, the deployment depends on every method, integration and response', () => {
    const dependsOn = new Set<string>(deployment.depends_on);
    for (const type of ['aws_api_gateway_method', 'aws_api_gateway_integration', 'aws_api_gateway_integration_response', 'aws_api_gateway_method_response', 'aws_api_gateway_gateway_response']) {
      for (const id of Object.keys(resourcesOfType(parsed, type))) expect(dependsOn).toContain(`${type}.${id}`);
    }
  });

  it('when the same config is synthesized twice, the redeployment hash does not change', () => {
    const first = redeploymentHash(synthStack({ routes: ['/a/'] }).parsed);
    const second = redeploymentHash(synthStack({ routes: ['/a/'] }).parsed);
    expect(second).toBe(first);
  });

  it('when the routes change, the redeployment hash changes', () => {
    const base = redeploymentHash(parsed);
    expect(redeploymentHash(synthStack({ routes: ['/github-webhook/'] }).parsed)).not.toBe(base);
    expect(redeploymentHash(synthStack({ routes: ['/github-webhook/', '/generic-webhook-trigger/invoke', '/extra'] }).parsed)).not.toBe(base);
  });

  it('when a request template is added or changed, the redeployment hash changes', () => {
    const extraKey = 'application/json; charset=utf8';
    let changed: SynthesizedStack | undefined;
    jest.isolateModules(() => {
      jest.doMock('../../stacks/ingest/send-message-template', () => {
        const actual = jest.requireActual('../../stacks/ingest/send-message-template');
        return { ...actual, requestTemplates: (route: string) => ({ ...actual.requestTemplates(route), [extraKey]: actual.sendMessageTemplate({ route, bodyKind: 'json' }) }) };
      });
      changed = (require('../support/synth') as typeof import('../support/synth')).synthStack().parsed;
    });
    // Only the templates differ, and the deployment is replaced for it.
    expect(Object.keys(requestTemplatesFromSynth(changed!, '/github-webhook/'))).toContain(extraKey);
    expect(redeploymentHash(changed!)).not.toBe(redeploymentHash(parsed));
  });

  it('when the source allowlist changes, the redeployment hash changes', () => {
    expect(redeploymentHash(synthStack({ allowedSourceCidrs: ['192.30.252.0/22'] }).parsed)).not.toBe(redeploymentHash(parsed));
  });
});

describe('source CIDR allowlist', () => {
  it('when allowedSourceCidrs is set, a rest API policy allows invoke only from those sources', () => {
    const cidrs = ['192.30.252.0/22', '185.199.108.0/22'];
    const { json, parsed } = synthStack({ allowedSourceCidrs: cidrs });
    const [apiId] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api');
    expect(json).toHaveResourceWithProperties(ApiGatewayRestApiPolicy, { rest_api_id: ref('aws_api_gateway_rest_api', apiId, 'id') });
    const [policyId, policy] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api_policy');
    const statements = JSON.parse(policy.policy).Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({
      Effect: 'Allow',
      Action: 'execute-api:Invoke',
      Resource: `${ref('aws_api_gateway_rest_api', apiId, 'execution_arn')}/*`,
      Condition: { IpAddress: { 'aws:SourceIp': cidrs } },
    });
    const deployment = onlyResourceOfType(parsed, 'aws_api_gateway_deployment')[1];
    expect(deployment.depends_on).toContain(`aws_api_gateway_rest_api_policy.${policyId}`);
  });

  it('when allowedSourceCidrs is empty, there is no rest API policy', () => {
    const { json, parsed } = synthStack();
    expect(Object.keys(resourcesOfType(parsed, 'aws_api_gateway_rest_api_policy'))).toHaveLength(0);
    expect(json).not.toHaveResource(ApiGatewayRestApiPolicy);
    expect(onlyResourceOfType(parsed, 'aws_api_gateway_rest_api')[1].policy).toBeUndefined();
  });
});
