/**
 * Synthesizes the Spigot stack in-process for property tests.
 *
 * `synthStack()` with no overrides is cached per jest worker (the drain is bundled with
 * esbuild on every synth, about a second). Overrides are deep-merged onto DEFAULT_CONFIG
 * and validated exactly as main.ts does, so a test can only build a stack a user could.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Testing } from 'cdktf';
import { ConfigError, DEFAULT_CONFIG, mergeConfig, validateConfig } from '../../stacks/config';
import { SpigotStack } from '../../stacks/spigot-stack';

/** A Terraform JSON document as cdktf's Testing.synth returns it (metadata stripped). */
export interface SynthesizedStack {
  readonly terraform?: Record<string, any>;
  readonly provider?: Record<string, any>;
  readonly data?: Record<string, Record<string, any>>;
  readonly resource: Record<string, Record<string, any>>;
  readonly output?: Record<string, { value: unknown; description?: string }>;
  readonly [key: string]: unknown;
}

export interface Synth {
  /** The synthesized JSON, for cdktf's matchers (`expect(json).toHaveResourceWithProperties(...)`). */
  readonly json: string;
  readonly parsed: SynthesizedStack;
  readonly stack: SpigotStack;
}

let cachedDefault: Synth | undefined;

export function synthStack(overrides?: object): Synth {
  const isDefault = overrides === undefined || Object.keys(overrides).length === 0;
  if (isDefault && cachedDefault) return cachedDefault;
  const config = validateConfig(mergeConfig(DEFAULT_CONFIG, overrides ?? {}), 'the test overrides');
  // Testing.synth only renders JSON; the app's outdir stays empty, so it is removed at once.
  const outdir = mkdtempSync(path.join(tmpdir(), 'spigot-synth-'));
  let json: string;
  let stack: SpigotStack;
  try {
    stack = new SpigotStack(Testing.app({ outdir }), config.name, config);
    json = Testing.synth(stack);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  const result: Synth = { json, parsed: JSON.parse(json) as SynthesizedStack, stack };
  if (isDefault) cachedDefault = result;
  return result;
}

/** The problems validateConfig reports for an override of the defaults ([] when valid). */
export function configProblems(override: object, source?: string): string[] {
  try {
    validateConfig(mergeConfig(DEFAULT_CONFIG, override), source);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

/** Every resource of one Terraform type, keyed by its logical id (empty when none). */
export function resourcesOfType(parsed: SynthesizedStack, type: string): Record<string, any> {
  return parsed.resource?.[type] ?? {};
}

/** The only resource of a type; throws when there are zero or several. */
export function onlyResourceOfType(parsed: SynthesizedStack, type: string): [id: string, resource: any] {
  const entries = Object.entries(resourcesOfType(parsed, type));
  if (entries.length !== 1) throw new Error(`expected exactly one ${type}, found ${entries.length}: ${entries.map(([id]) => id).join(', ')}`);
  return entries[0];
}

/** `${aws_x.id.attr}` -> { type, id, attribute } for a whole-string Terraform reference. */
export function parseReference(value: unknown): { type: string; id: string; attribute: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z0-9_]+)\}$/.exec(value);
  return match ? { type: match[1], id: match[2], attribute: match[3] } : undefined;
}

/** The reference string Terraform uses for an attribute of a resource. */
export const ref = (type: string, id: string, attribute: string): string => `\${${type}.${id}.${attribute}}`;

/**
 * The full path ("/a/b") of an aws_api_gateway_resource, walking parent_id references up
 * to the rest API's root_resource_id. `resourceRef` is either a logical id or a
 * `${aws_api_gateway_resource.<id>.id}` reference.
 */
export function resourcePath(parsed: SynthesizedStack, resourceRef: string): string {
  const resources = resourcesOfType(parsed, 'aws_api_gateway_resource');
  const parts: string[] = [];
  let current: string | undefined = parseReference(resourceRef)?.id ?? resourceRef;
  const seen = new Set<string>();
  while (current !== undefined) {
    if (seen.has(current)) throw new Error(`cycle in aws_api_gateway_resource parents at ${current}`);
    seen.add(current);
    const resource = resources[current];
    if (!resource) throw new Error(`no aws_api_gateway_resource ${current}`);
    parts.unshift(resource.path_part);
    const parent = parseReference(resource.parent_id);
    if (!parent) throw new Error(`unexpected parent_id ${resource.parent_id} on ${current}`);
    if (parent.type === 'aws_api_gateway_rest_api' && parent.attribute === 'root_resource_id') break;
    if (parent.type !== 'aws_api_gateway_resource' || parent.attribute !== 'id') throw new Error(`unexpected parent_id ${resource.parent_id} on ${current}`);
    current = parent.id;
  }
  return `/${parts.join('/')}`;
}

/** API Gateway treats "/x/" and "/x" as the same resource. */
export const normalizeRoute = (route: string): string => (route.length > 1 ? route.replace(/\/$/, '') : route);

/** Path of the resource an API Gateway method/integration/response belongs to. */
export function pathOf(parsed: SynthesizedStack, item: { resource_id: string }): string {
  const parent = parseReference(item.resource_id);
  if (parent?.type === 'aws_api_gateway_rest_api' && parent.attribute === 'root_resource_id') return '/';
  return resourcePath(parsed, item.resource_id);
}

/** Items of a type attached to a route (trailing slash ignored). */
export function forRoute(parsed: SynthesizedStack, type: string, route: string): Array<[string, any]> {
  return Object.entries(resourcesOfType(parsed, type)).filter(([, item]) => normalizeRoute(pathOf(parsed, item)) === normalizeRoute(route));
}

/** The AWS (SQS) integration of a route; throws unless there is exactly one. */
export function sqsIntegrationFor(parsed: SynthesizedStack, route: string): any {
  const integrations = forRoute(parsed, 'aws_api_gateway_integration', route).filter(([, i]) => i.type === 'AWS');
  if (integrations.length !== 1) throw new Error(`expected one AWS integration on ${route}, found ${integrations.length}`);
  return integrations[0][1];
}

/** max_message_size of the buffer and its DLQ as synthesized, for emulator queues sized like the stack's. */
export function queueMaxMessageBytes(parsed: SynthesizedStack): { buffer: number; deadLetter: number } {
  const queues = Object.values(resourcesOfType(parsed, 'aws_sqs_queue'));
  const sizeOf = (suffix: string): number => {
    const matching = queues.filter((q) => String(q.name).endsWith(suffix));
    if (matching.length !== 1) throw new Error(`expected one aws_sqs_queue named *${suffix}, found ${matching.length}`);
    return matching[0].max_message_size;
  };
  return { buffer: sizeOf('-buffer.fifo'), deadLetter: sizeOf('-dlq.fifo') };
}

/** The `request_templates` map of the SQS integration on a route. */
export function requestTemplatesFromSynth(parsed: SynthesizedStack, route: string): Record<string, string> {
  return sqsIntegrationFor(parsed, route).request_templates;
}

/** The HTTP method (POST, ANY, ...) an integration/response belongs to, via its http_method reference. */
export function httpMethodOf(parsed: SynthesizedStack, item: { http_method: string }): string {
  const reference = parseReference(item.http_method);
  if (!reference) return item.http_method;
  if (reference.type !== 'aws_api_gateway_method') throw new Error(`unexpected http_method ${item.http_method}`);
  const method = resourcesOfType(parsed, 'aws_api_gateway_method')[reference.id];
  if (!method) throw new Error(`no aws_api_gateway_method ${reference.id}`);
  return method.http_method;
}
