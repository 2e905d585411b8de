import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { ApiGatewayGatewayResponse } from '@cdktf/provider-aws/lib/api-gateway-gateway-response';
import { ApiGatewayIntegration } from '@cdktf/provider-aws/lib/api-gateway-integration';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { DEFAULT_CONFIG } from '../../stacks/config';
import { requestTemplates } from '../../stacks/ingest/send-message-template';
import {
  forRoute,
  httpMethodOf,
  normalizeRoute,
  onlyResourceOfType,
  pathOf,
  ref,
  requestTemplatesFromSynth,
  resourcePath,
  resourcesOfType,
  sqsIntegrationFor,
  synthStack,
  type SynthesizedStack,
} from '../support/synth';

Testing.setupJest();

const ROUTES = DEFAULT_CONFIG.routes;

/** "POST /x" for every method in the API. */
const methodsOf = (parsed: SynthesizedStack): string[] =>
  Object.values(resourcesOfType(parsed, 'aws_api_gateway_method')).map((m) => `${m.http_method} ${normalizeRoute(pathOf(parsed, m))}`).sort();

const expectedMethods = (routes: readonly string[]): string[] =>
  routes.flatMap((r) => [`POST ${normalizeRoute(r)}`, `ANY ${normalizeRoute(r)}`]).sort();

const substituteRequestId = (template: string): string => template.split('$context.requestId').join('0b7c2f4e-1d2a-4c5b-9e8f-123456789abc');

describe('webhook API', () => {
  const { json, parsed } = synthStack();
  const [apiId] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api');
  const [queueId] = Object.entries(resourcesOfType(parsed, 'aws_sqs_queue')).find(([, q]) => q.name === 'spigot-buffer.fifo')!;
  const [identityId] = Object.keys(parsed.data?.aws_caller_identity ?? {});

  it('when synthesized with defaults, it is a REGIONAL REST API', () => {
    expect(json).toHaveResourceWithProperties(ApiGatewayRestApi, { name: 'spigot', endpoint_configuration: { types: ['REGIONAL'] } });
  });

  it('when synthesized with defaults, it has only POST and the ANY->405 mock, on exactly the configured routes', () => {
    expect(methodsOf(parsed)).toEqual(expectedMethods(ROUTES));
    for (const method of Object.values(resourcesOfType(parsed, 'aws_api_gateway_method'))) {
      expect(method).toMatchObject({ rest_api_id: ref('aws_api_gateway_rest_api', apiId, 'id'), authorization: 'NONE' });
    }
  });

  it('when a route has several segments, it builds nested resources sharing their parents', () => {
    const paths = Object.keys(resourcesOfType(parsed, 'aws_api_gateway_resource')).map((id) => resourcePath(parsed, id)).sort();
    expect(paths).toEqual(['/generic-webhook-trigger', '/generic-webhook-trigger/invoke', '/github-webhook']);
    const resources = resourcesOfType(parsed, 'aws_api_gateway_resource');
    const [parentId] = Object.entries(resources).find(([, r]) => r.path_part === 'generic-webhook-trigger')!;
    const invoke = Object.values(resources).find((r) => r.path_part === 'invoke');
    expect(invoke.parent_id).toBe(ref('aws_api_gateway_resource', parentId, 'id'));
    expect(resources[parentId].parent_id).toBe(ref('aws_api_gateway_rest_api', apiId, 'root_resource_id'));
  });

  it('when routes are configured, it has methods on exactly those routes and shares common prefixes', () => {
    const routes = ['/hooks/github', '/hooks/gitlab/', '/bitbucket'];
    const { parsed: other } = synthStack({ routes });
    expect(methodsOf(other)).toEqual(expectedMethods(routes));
    const paths = Object.keys(resourcesOfType(other, 'aws_api_gateway_resource')).map((id) => resourcePath(other, id)).sort();
    expect(paths).toEqual(['/bitbucket', '/hooks', '/hooks/github', '/hooks/gitlab']);
  });

  it('when a route receives a POST, it integrates directly with SQS SendMessage (type AWS, passthrough NEVER)', () => {
    for (const route of ROUTES) {
      const integration = sqsIntegrationFor(parsed, route);
      expect(integration).toMatchObject({
        type: 'AWS',
        integration_http_method: 'POST',
        passthrough_behavior: 'NEVER',
        uri: `arn:aws:apigateway:${DEFAULT_CONFIG.region}:sqs:path/\${data.aws_caller_identity.${identityId}.account_id}/\${aws_sqs_queue.${queueId}.name}`,
        request_parameters: { 'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'" },
      });
      expect(httpMethodOf(parsed, integration)).toBe('POST');
    }
  });

  it('when the region is configured, the integration URI names that region', () => {
    const { parsed: other } = synthStack({ region: 'eu-west-1' });
    expect(sqsIntegrationFor(other, '/github-webhook/').uri).toMatch(/^arn:aws:apigateway:eu-west-1:sqs:path\//);
  });

  it('when synthesized with defaults, each SQS integration has templates for JSON and form bodies, bare and with each common charset spelling', () => {
    const spellings = ['', '; charset=utf-8', ';charset=utf-8', '; charset=UTF-8', ';charset=UTF-8'];
    for (const route of ROUTES) {
      const templates = requestTemplatesFromSynth(parsed, route);
      expect(Object.keys(templates).sort()).toEqual(
        ['application/json', 'application/x-www-form-urlencoded'].flatMap((type) => spellings.map((charset) => `${type}${charset}`)).sort(),
      );
      expect(templates).toEqual(requestTemplates(route));
      // One template per body kind, whichever key selects it.
      for (const [type, template] of Object.entries(templates)) expect(template).toBe(templates[type.split(';')[0]!]);
      expect(templates['application/json']).not.toBe(templates['application/x-www-form-urlencoded']);
      for (const template of Object.values(templates)) {
        expect(template.startsWith('#set(')).toBe(true);
        expect(template).toContain('Action=SendMessage&MessageBody=');
        expect(template).toContain('&MessageGroupId=$util.urlEncode($group)');
        expect(template).toContain('&MessageDeduplicationId=$util.urlEncode("req:$context.requestId")');
        expect(template).not.toContain('\n');
      }
    }
  });

  it('when any template is synthesized, it never uses $input.json( or escapeJavaScript', () => {
    const everyTemplate = [
      ...Object.values(resourcesOfType(parsed, 'aws_api_gateway_integration')).flatMap((i) => Object.values(i.request_templates ?? {})),
      ...Object.values(resourcesOfType(parsed, 'aws_api_gateway_integration_response')).flatMap((i) => Object.values(i.response_templates ?? {})),
      ...Object.values(resourcesOfType(parsed, 'aws_api_gateway_gateway_response')).flatMap((i) => Object.values(i.response_templates ?? {})),
    ] as string[];
    expect(everyTemplate.length).toBeGreaterThan(10);
    for (const template of everyTemplate) {
      expect(template).not.toContain('$input.json(');
      expect(template).not.toContain('escapeJavaScript');
    }
  });

  it('when SQS answers, it maps success to 202, 4xx to 502 (413 by override) and 5xx to 503', () => {
    for (const route of ROUTES) {
      const responses = forRoute(parsed, 'aws_api_gateway_integration_response', route)
        .map(([, r]) => r)
        .filter((r) => httpMethodOf(parsed, r) === 'POST');
      const byStatus = Object.fromEntries(responses.map((r) => [r.status_code, r]));
      expect(Object.keys(byStatus).sort()).toEqual(['202', '502', '503']);
      expect(byStatus['202'].selection_pattern).toBeUndefined();
      expect(byStatus['502'].selection_pattern).toBe('4\\d{2}');
      expect(byStatus['503'].selection_pattern).toBe('5\\d{2}');
      expect(JSON.parse(substituteRequestId(byStatus['202'].response_templates['application/json']))).toEqual({ queued: true, requestId: expect.any(String) });
      expect(JSON.parse(substituteRequestId(byStatus['503'].response_templates['application/json']))).toMatchObject({ queued: false });
      expect(byStatus['502'].response_templates['application/json']).toContain('#set($context.responseOverride.status = 413)');
    }
  });

  it('when SQS answers, the POST method declares 202, 413, 502 and 503 responses', () => {
    for (const route of ROUTES) {
      const statuses = forRoute(parsed, 'aws_api_gateway_method_response', route)
        .map(([, r]) => r)
        .filter((r) => httpMethodOf(parsed, r) === 'POST')
        .map((r) => r.status_code)
        .sort();
      expect(statuses).toEqual(['202', '413', '502', '503']);
    }
  });

  it('when another method is used on a route, a MOCK integration answers 405 with Allow: POST', () => {
    for (const route of ROUTES) {
      const mocks = forRoute(parsed, 'aws_api_gateway_integration', route).map(([, i]) => i).filter((i) => i.type === 'MOCK');
      expect(mocks).toHaveLength(1);
      expect(httpMethodOf(parsed, mocks[0])).toBe('ANY');
      expect(JSON.parse(mocks[0].request_templates['application/json'])).toEqual({ statusCode: 405 });
      const responses = forRoute(parsed, 'aws_api_gateway_integration_response', route).map(([, r]) => r).filter((r) => r.status_code === '405');
      expect(responses).toHaveLength(1);
      expect(responses[0].response_parameters).toEqual({ 'method.response.header.Allow': "'POST'" });
      expect(JSON.parse(substituteRequestId(responses[0].response_templates['application/json']))).toMatchObject({ queued: false });
    }
  });

  it('when a path is unknown, the gateway answers 404 (not 403) with a JSON body listing the routes', () => {
    expect(json).toHaveResourceWithProperties(ApiGatewayGatewayResponse, { response_type: 'MISSING_AUTHENTICATION_TOKEN', status_code: '404' });
    const [, response] = Object.entries(resourcesOfType(parsed, 'aws_api_gateway_gateway_response')).find(([, r]) => r.response_type === 'MISSING_AUTHENTICATION_TOKEN')!;
    const body = JSON.parse(substituteRequestId(response.response_templates['application/json']));
    expect(body).toMatchObject({ queued: false, requestId: '0b7c2f4e-1d2a-4c5b-9e8f-123456789abc' });
    for (const route of ROUTES) expect(body.message).toContain(route);
  });

  it('when the content type is not accepted, the gateway answers 415 with a JSON body', () => {
    expect(json).toHaveResourceWithProperties(ApiGatewayGatewayResponse, { response_type: 'UNSUPPORTED_MEDIA_TYPE', status_code: '415' });
    const [, response] = Object.entries(resourcesOfType(parsed, 'aws_api_gateway_gateway_response')).find(([, r]) => r.response_type === 'UNSUPPORTED_MEDIA_TYPE')!;
    expect(JSON.parse(substituteRequestId(response.response_templates['application/json']))).toMatchObject({ queued: false, message: expect.stringContaining('application/json') });
  });

  it('when the gateway itself answers, every gateway response body is JSON with a JSON content type', () => {
    const responses = Object.values(resourcesOfType(parsed, 'aws_api_gateway_gateway_response'));
    expect(responses.length).toBeGreaterThanOrEqual(2);
    for (const response of responses) {
      expect(response.response_parameters).toEqual({ 'gatewayresponse.header.Content-Type': "'application/json'" });
      expect(() => JSON.parse(substituteRequestId(response.response_templates['application/json']))).not.toThrow();
    }
  });

  it('when synthesized with defaults, no integration on the ingest path involves Lambda', () => {
    for (const integration of Object.values(resourcesOfType(parsed, 'aws_api_gateway_integration'))) {
      expect(['AWS', 'MOCK']).toContain(integration.type);
      expect(String(integration.uri ?? '')).not.toMatch(/lambda/i);
    }
    for (const permission of Object.values(resourcesOfType(parsed, 'aws_lambda_permission'))) {
      expect(permission.principal).not.toBe('apigateway.amazonaws.com');
    }
    expect(json).not.toHaveResourceWithProperties(ApiGatewayIntegration, { type: 'AWS_PROXY' });
  });
});

describe('API Gateway SQS role', () => {
  const { parsed } = synthStack();
  const integration = sqsIntegrationFor(parsed, '/github-webhook/');
  const roleId = integration.credentials.match(/^\$\{aws_iam_role\.([^.]+)\.arn\}$/)[1];
  const role = resourcesOfType(parsed, 'aws_iam_role')[roleId];
  const [queueId] = Object.entries(resourcesOfType(parsed, 'aws_sqs_queue')).find(([, q]) => q.name === 'spigot-buffer.fifo')!;
  const [keyId] = onlyResourceOfType(parsed, 'aws_kms_key');

  it('when API Gateway calls SQS, it does so with a role only apigateway.amazonaws.com can assume', () => {
    expect(JSON.parse(role.assume_role_policy)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    for (const route of DEFAULT_CONFIG.routes) expect(sqsIntegrationFor(parsed, route).credentials).toBe(integration.credentials);
  });

  it('when the role is used, it may only SendMessage to the buffer queue and use the stack key', () => {
    const policies = Object.values(resourcesOfType(parsed, 'aws_iam_role_policy')).filter((p) => p.role === ref('aws_iam_role', roleId, 'id'));
    expect(policies).toHaveLength(1);
    const statements = JSON.parse(policies[0].policy).Statement as Array<{ Effect: string; Action: string | string[]; Resource: string | string[] }>;
    const grants = statements.flatMap((s) => [s.Action].flat().flatMap((action) => [s.Resource].flat().map((resource) => `${s.Effect} ${action} ${resource}`)));
    expect(grants.sort()).toEqual([
      `Allow kms:Decrypt ${ref('aws_kms_key', keyId, 'arn')}`,
      `Allow kms:GenerateDataKey ${ref('aws_kms_key', keyId, 'arn')}`,
      `Allow sqs:SendMessage ${ref('aws_sqs_queue', queueId, 'arn')}`,
    ].sort());
    const attachments = Object.values(resourcesOfType(parsed, 'aws_iam_role_policy_attachment')).filter((a) => String(a.role).includes(roleId));
    expect(attachments).toHaveLength(0);
  });
});
