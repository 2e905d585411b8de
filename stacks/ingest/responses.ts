/**
 * What the webhook API answers. Every answer is small JSON that says whether the delivery
 * was queued, so a sender (and the person reading GitHub's "Recent deliveries") can tell
 * a queued delivery from one that must be redelivered.
 */
import { BUFFER_MAX_MESSAGE_BYTES, DEAD_LETTER_ATTRIBUTES_MAX_BYTES } from '../../functions/shared/dead-letter-attributes';

export const JSON_CONTENT_TYPE = 'application/json';

/** SQS accepted the message: the only 2xx Spigot ever returns. */
export const QUEUED_TEMPLATE = '{"queued":true,"requestId":"$context.requestId"}';

/** SQS's message for an oversized body (same text from SQS and fauxqs). */
export const SQS_TOO_LARGE_MARKER = 'Message must be shorter than';

/** Every refusal, from an integration or from API Gateway itself, has this one shape. */
export const notQueued = (message: string): string =>
  `{"queued":false,"requestId":"$context.requestId","message":${JSON.stringify(message)}}`;

/**
 * SQS answered 4xx. An oversized envelope becomes 413: the buffer takes 1 MiB less what a dead
 * letter's attributes may need (functions/shared/dead-letter-attributes.ts), and the body is
 * stored base64, so about 765 KiB of raw body fits. Anything else is a 502 the sender can retry.
 */
export const SQS_REJECTED_TEMPLATE =
  `#if($input.body.contains('${SQS_TOO_LARGE_MARKER}'))#set($context.responseOverride.status = 413)` +
  notQueued(`Payload too large: Spigot's buffer stores at most ${BUFFER_MAX_MESSAGE_BYTES} bytes per message (1 MiB less ${DEAD_LETTER_ATTRIBUTES_MAX_BYTES} bytes kept for dead-letter details) and keeps the body base64-encoded, so bodies up to about 765 KiB fit. This delivery was NOT queued.`) +
  `#else` +
  notQueued('The buffer queue rejected this delivery; it was NOT queued. Redeliver it; if this repeats, check the Spigot API access log for this requestId.') +
  `#end`;

/** SQS answered 5xx or was unreachable: retryable. */
export const SQS_UNAVAILABLE_TEMPLATE = notQueued('The buffer queue is unavailable; this delivery was NOT queued. Redeliver it.');

export const METHOD_NOT_ALLOWED_TEMPLATE = notQueued('Only POST is accepted on this webhook route.');

export interface GatewayResponseSpec {
  readonly statusCode?: string;
  readonly message: string;
}

/**
 * API Gateway's own answers (no integration reached). Unknown paths are 403 "Missing
 * Authentication Token" by default, which misleads; Spigot says what happened instead.
 */
export function gatewayResponses(routes: readonly string[]): Record<string, GatewayResponseSpec> {
  return {
    MISSING_AUTHENTICATION_TOKEN: {
      statusCode: '404',
      message: `No such webhook route. Spigot accepts POST on: ${routes.join(', ')}. Nothing was queued.`,
    },
    UNSUPPORTED_MEDIA_TYPE: {
      statusCode: '415',
      message: 'Unsupported Content-Type: send application/json or application/x-www-form-urlencoded. Nothing was queued.',
    },
    REQUEST_TOO_LARGE: {
      statusCode: '413',
      message: 'Payload too large for API Gateway (10 MB). Nothing was queued.',
    },
    THROTTLED: { message: 'Too many requests; Spigot is throttling. Nothing was queued: redeliver this delivery later.' },
    ACCESS_DENIED: { message: 'This source address is not allowed to send webhooks to Spigot. Nothing was queued.' },
    DEFAULT_4XX: { message: 'The request was refused ($context.error.responseType). Nothing was queued.' },
    DEFAULT_5XX: {
      message: 'Spigot could not queue this delivery ($context.error.responseType), for example because a JSON body could not be parsed. Nothing was queued.',
    },
  };
}
