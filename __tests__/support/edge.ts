/**
 * The webhook edge as deployed: API Gateway's routing, template selection, request and
 * response mapping taken from the SYNTHESIZED stack, with SendMessage delivered to a real
 * SQS emulator (fauxqs). API Gateway talks to SQS in the query protocol; fauxqs speaks
 * SQS's JSON protocol, so the form parameters are carried over one to one.
 */
import { randomUUID } from 'node:crypto';
import {
  TemplateTransformationError,
  renderRequestTemplate,
  renderResponseTemplate,
  selectRequestTemplate,
  type TemplateMatching,
} from './api-gateway';
import { forRoute, httpMethodOf, normalizeRoute, resourcesOfType, sqsIntegrationFor, type SynthesizedStack } from './synth';

export interface EdgeRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  readonly sourceIp?: string;
}

export interface EdgeResponse {
  readonly status: number;
  readonly body: string;
  /** True only when SQS accepted the message. */
  readonly reachedQueue: boolean;
  readonly requestId: string;
}

export interface SqsTarget {
  readonly endpoint: string;
  readonly queueUrl: string;
}

const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;

/** Form parameters of a query-protocol SendMessage, as SQS's JSON protocol names them. */
export function sendMessageParams(formBody: string): Record<string, string> {
  const params = new URLSearchParams(formBody);
  if (params.get('Action') !== 'SendMessage') throw new Error(`expected Action=SendMessage in ${formBody.slice(0, 80)}`);
  const out: Record<string, string> = {};
  for (const name of ['MessageBody', 'MessageGroupId', 'MessageDeduplicationId']) {
    const value = params.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

async function sendToSqs(target: SqsTarget, params: Record<string, string>): Promise<{ status: number; body: string }> {
  const response = await fetch(target.endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AmazonSQS.SendMessage' },
    body: JSON.stringify({ QueueUrl: target.queueUrl, ...params }),
  });
  return { status: response.status, body: await response.text() };
}

function gatewayResponse(parsed: SynthesizedStack, type: string, fallbackStatus: number, requestId: string): EdgeResponse {
  const spec = Object.values(resourcesOfType(parsed, 'aws_api_gateway_gateway_response')).find((r) => r.response_type === type);
  const template: string = spec?.response_templates?.['application/json'] ?? '{"message":"error"}';
  const rendered = renderResponseTemplate(template, '', { requestId });
  return { status: Number(spec?.status_code ?? fallbackStatus), body: rendered.body, reachedQueue: false, requestId };
}

export interface EdgeOptions {
  /** How Content-Type selects a request template (see TemplateMatching). @default 'media-type' */
  readonly templateMatching?: TemplateMatching;
}

export class Edge {
  readonly routes: string[];

  constructor(
    private readonly parsed: SynthesizedStack,
    private readonly target: SqsTarget,
    private readonly options: EdgeOptions = {},
  ) {
    this.routes = Object.values(resourcesOfType(parsed, 'aws_api_gateway_integration'))
      .filter((i) => i.type === 'AWS')
      .map((i) => routeOfIntegration(i));
  }

  async accept(request: EdgeRequest): Promise<EdgeResponse> {
    const requestId = randomUUID();
    const method = request.method ?? 'POST';
    const route = this.routes.find((r) => normalizeRoute(r) === normalizeRoute(request.path));
    if (!route) return gatewayResponse(this.parsed, 'MISSING_AUTHENTICATION_TOKEN', 403, requestId);
    if (request.body.length > API_GATEWAY_MAX_BODY) return gatewayResponse(this.parsed, 'REQUEST_TOO_LARGE', 413, requestId);
    if (method !== 'POST') return this.mockAnswer(route, requestId);

    const integration = sqsIntegrationFor(this.parsed, route);
    const contentType = request.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    const selected = selectRequestTemplate(integration.request_templates, contentType, this.options.templateMatching);
    if ('status' in selected) return gatewayResponse(this.parsed, 'UNSUPPORTED_MEDIA_TYPE', 415, requestId);
    let formBody: string;
    try {
      formBody = renderRequestTemplate(selected.template, {
        method,
        path: request.path,
        stage: 'live',
        headers: request.headers,
        query: request.query ?? [],
        body: request.body,
        sourceIp: request.sourceIp ?? '192.30.252.1',
        requestId,
        requestTimeEpoch: Date.now(),
      }).output;
    } catch (error) {
      if (error instanceof TemplateTransformationError) return gatewayResponse(this.parsed, 'DEFAULT_5XX', 500, requestId);
      throw error;
    }
    const sqs = await sendToSqs(this.target, sendMessageParams(formBody));
    return this.integrationAnswer(route, sqs, requestId);
  }

  private integrationAnswer(route: string, sqs: { status: number; body: string }, requestId: string): EdgeResponse {
    const responses = forRoute(this.parsed, 'aws_api_gateway_integration_response', route).filter(([, r]) => httpMethodOf(this.parsed, r) === 'POST');
    const matched =
      responses.find(([, r]) => r.selection_pattern !== undefined && new RegExp(`^(?:${r.selection_pattern})$`).test(String(sqs.status))) ??
      responses.find(([, r]) => r.selection_pattern === undefined);
    if (!matched) throw new Error(`no integration response for SQS status ${sqs.status}`);
    const rendered = renderResponseTemplate(matched[1].response_templates['application/json'], sqs.body, { requestId });
    const status = rendered.statusOverride ?? Number(matched[1].status_code);
    return { status, body: rendered.body, reachedQueue: sqs.status === 200, requestId };
  }

  private mockAnswer(route: string, requestId: string): EdgeResponse {
    const [, response] = forRoute(this.parsed, 'aws_api_gateway_integration_response', route).find(([, r]) => httpMethodOf(this.parsed, r) === 'ANY')!;
    const rendered = renderResponseTemplate(response.response_templates['application/json'], '', { requestId });
    return { status: Number(response.status_code), body: rendered.body, reachedQueue: false, requestId };
  }
}

function routeOfIntegration(integration: { request_templates: Record<string, string> }): string {
  // The template records the configured route literally: "route":"<path>".
  const template = Object.values(integration.request_templates)[0];
  const match = /%22route%22%3A%22(.*?)%22/.exec(template);
  if (!match) throw new Error('integration template does not record its route');
  return decodeURIComponent(match[1]);
}
