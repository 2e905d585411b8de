/**
 * API Gateway request mapping templates that turn a webhook into an SQS SendMessage
 * call (query protocol, form-encoded) whose MessageBody is the v1 envelope
 * (functions/shared/envelope.ts).
 *
 * Each template is emitted as a single line: Velocity's handling of newlines after
 * directives differs between implementations, and a stray newline inside MessageBody
 * would change the stored bytes. Literal JSON is URL-encoded here, at synth time; every
 * value from the request is base64-encoded and then URL-encoded by $util, so nothing a
 * sender writes can break the JSON or the form encoding.
 */

/** How the template finds the repository, which becomes the FIFO MessageGroupId. */
export type BodyKind = 'json' | 'form';

export interface SendMessageTemplateOptions {
  /** The allowlisted route, recorded in the envelope so the drain replays to the same path. */
  readonly route: string;
  readonly bodyKind: BodyKind;
}

/** SQS limits MessageGroupId to 128 characters. */
export const SQS_ID_MAX_LENGTH = 128;

/** URL-encode a literal exactly as $util.urlEncode would (application/x-www-form-urlencoded). */
export function formEncode(literal: string): string {
  return encodeURIComponent(literal)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

const lit = (json: string): string => formEncode(json);
const b64 = (expr: string): string => `$util.urlEncode($util.base64Encode(${expr}))`;

/**
 * Finds the repository name into $repo. JSON bodies are read with $input.path only when
 * the body looks like a JSON object, so plain-text bodies are still queued (Jenkins
 * decides what to do with them). Form bodies carry GitHub's JSON in `payload=`.
 */
function repositoryLookup(kind: BodyKind): string {
  const names = ['$.repository.full_name', '$.project.path_with_namespace'];
  if (kind === 'json') {
    return (
      `#set($repo = '')` +
      `#if($input.body.trim().startsWith('{'))` +
      names.map((path) => `#if($repo == '')#set($repo = "$!input.path('${path}')")#end`).join('') +
      `#end`
    );
  }
  return (
    `#set($repo = '')` +
    `#set($form = $input.body)` +
    `#if($form.startsWith('payload='))` +
    `#set($end = $form.indexOf('&'))#if($end < 0)#set($end = $form.length())#end` +
    `#set($doc = $util.parseJson($util.urlDecode($form.substring(8, $end))))` +
    `#if($doc.repository)#set($repo = "$!doc.repository.full_name")#end` +
    `#end`
  );
}

/**
 * MessageGroupId: one group per repository (lower-cased, so coarser at worst, never finer).
 * Characters SQS does not allow become `_`; that can only merge groups, never split one.
 * Deliveries with no repository (organisation-level events) share one group per route.
 */
function groupIdLookup(route: string): string {
  return (
    `#if($repo == '')#set($group = "route:${route}")` +
    `#else#set($group = "repo:$repo.toLowerCase().replaceAll('[^a-z0-9._/-]', '_')")#end` +
    `#if($group.length() > ${SQS_ID_MAX_LENGTH})#set($group = $group.substring(0, ${SQS_ID_MAX_LENGTH}))#end`
  );
}

/**
 * MessageDeduplicationId: the API Gateway request id, unique per accepted request. A delivery a
 * person redelivers (GitHub reuses X-GitHub-Delivery) must reach Jenkins again, and the senders do
 * not retry failed deliveries by themselves, so deduplicating on delivery ids would only drop
 * redeliveries. The delivery id stays in the envelope's headers for Jenkins to skip repeats.
 */
const DEDUP_ID = `"req:$context.requestId"`;

function pairsOf(mapExpr: string): string {
  return (
    `#set($first = true)` +
    `#foreach($name in ${mapExpr}.keySet())` +
    // Velocity 1.7 leaves a variable unchanged when #set gets null: reset it first so a
    // missing value can never repeat the previous header's value under this name.
    `#set($value = '')#set($value = ${mapExpr}.get($name))` +
    `#if(!$first)${lit(',')}#end#set($first = false)` +
    `${lit('["')}${b64('$name')}${lit('","')}${b64('$value')}${lit('"]')}` +
    `#end`
  );
}

export function sendMessageTemplate(options: SendMessageTemplateOptions): string {
  return [
    `#set($params = $input.params())`,
    `Action=SendMessage&MessageBody=`,
    lit('{"v":1,"id":"'), `$context.requestId`,
    lit('","at":'), `$context.requestTimeEpoch`,
    lit(',"ip":"'), `$util.urlEncode($context.identity.sourceIp)`,
    lit(`","route":${JSON.stringify(options.route)},"q":[`),
    pairsOf('$params.querystring'),
    lit('],"h":['),
    pairsOf('$params.header'),
    lit('],"b":"'), b64('$input.body'), lit('"}'),
    repositoryLookup(options.bodyKind),
    groupIdLookup(options.route),
    `&MessageGroupId=$util.urlEncode($group)`,
    `&MessageDeduplicationId=$util.urlEncode(${DEDUP_ID})`,
  ].join('');
}

/** Media types Spigot accepts; API Gateway answers 415 for any other (passthrough NEVER). */
export const ACCEPTED_MEDIA_TYPES: Readonly<Record<string, BodyKind>> = {
  'application/json': 'json',
  'application/x-www-form-urlencoded': 'form',
};

/**
 * Charset parameters senders commonly add (`; charset=utf-8`, Java clients' `;charset=UTF-8`).
 * API Gateway's documentation says only that the template is chosen by the Content-Type header
 * (developer guide, "Method request behavior for payloads without mapping templates"), not whether
 * parameters count; LocalStack, for one, looks the whole header value up as the map key. So each
 * spelling gets its own, identical template: the ingest works whichever way the match is done.
 */
export const CHARSET_SPELLINGS: readonly string[] = ['; charset=utf-8', ';charset=utf-8', '; charset=UTF-8', ';charset=UTF-8'];

/** Every request-template key: each media type bare and with each charset spelling. */
export const ACCEPTED_CONTENT_TYPES: Readonly<Record<string, BodyKind>> = Object.fromEntries(
  Object.entries(ACCEPTED_MEDIA_TYPES).flatMap(([type, bodyKind]) => [type, ...CHARSET_SPELLINGS.map((charset) => `${type}${charset}`)].map((key) => [key, bodyKind])),
);

export function requestTemplates(route: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(ACCEPTED_CONTENT_TYPES).map(([type, bodyKind]) => [type, sendMessageTemplate({ route, bodyKind })]),
  );
}
