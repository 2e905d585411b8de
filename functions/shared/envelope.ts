/**
 * The envelope is the SQS message body that API Gateway writes and the drain replays.
 *
 * Every value that comes from the request (body, headers, query) is base64 so the
 * envelope is valid JSON whatever bytes the sender used; the mapping template never
 * has to escape anything (`$util.escapeJavaScript` emits `\'`, which JSON rejects).
 * The API Gateway template in stacks/ingest/send-message-template.ts writes the same
 * shape; the tests prove the two agree.
 */
export const ENVELOPE_VERSION = 1;

export interface WebhookEnvelope {
  readonly version: typeof ENVELOPE_VERSION;
  /** API Gateway request id ($context.requestId). */
  readonly requestId: string;
  /** Epoch milliseconds at which API Gateway received the request. */
  readonly receivedAt: number;
  readonly sourceIp: string;
  /** The allowlisted route the request came in on, e.g. `/github-webhook/`. */
  readonly route: string;
  /** Query parameters as API Gateway decoded them, in order. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Request headers with their original names. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The exact request body bytes. */
  readonly body: Buffer;
}

/** The wire form: short keys, base64 for anything the sender controls. */
interface WireEnvelopeV1 {
  v: 1;
  id: string;
  at: number;
  ip: string;
  route: string;
  q: Array<[string, string]>;
  h: Array<[string, string]>;
  b: string;
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(`invalid webhook envelope: ${message}`);
    this.name = 'EnvelopeError';
  }
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export function encodeEnvelope(envelope: WebhookEnvelope): string {
  const wire: WireEnvelopeV1 = {
    v: ENVELOPE_VERSION,
    id: envelope.requestId,
    at: envelope.receivedAt,
    ip: envelope.sourceIp,
    route: envelope.route,
    q: envelope.query.map(([k, v]) => [b64(k), b64(v)]),
    h: envelope.headers.map(([k, v]) => [b64(k), b64(v)]),
    b: envelope.body.toString('base64'),
  };
  return JSON.stringify(wire);
}

/**
 * Strict base64: the value must be exactly what encoding its bytes gives back. Node's decoder
 * skips characters it does not know instead of failing, so the round trip is the check; it costs
 * one native encode, where a regular expression walked every character of the body in JS.
 */
function decodeBase64(value: unknown, field: string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
  if (bytes === undefined || bytes.toString('base64') !== value) throw new EnvelopeError(`${field} is not base64`);
  return bytes;
}

function decodePairs(value: unknown, field: string): Array<[string, string]> {
  if (!Array.isArray(value)) throw new EnvelopeError(`${field} is not a list`);
  return value.map((pair: unknown, index) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new EnvelopeError(`${field}[${index}] is not a [name, value] pair`);
    }
    return [
      decodeBase64(pair[0], `${field}[${index}][0]`).toString('utf8'),
      decodeBase64(pair[1], `${field}[${index}][1]`).toString('utf8'),
    ];
  });
}

/**
 * Error messages end up in logs, in the DLQ's SpigotReason and in `dlq list`, so they never quote
 * the message: V8's JSON.parse message does (`Unexpected token 'g', "{"token": ghp_..." is not
 * valid JSON`), so only the position it names is kept.
 */
function notJson(error: unknown): EnvelopeError {
  const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  return new EnvelopeError(position === undefined ? 'not JSON' : `not JSON (at position ${position})`);
}

/** A version is named only when it is a number, a boolean or null; anything else only by its type. */
function describeVersion(v: unknown): string {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined) return '(none)';
  return Array.isArray(v) ? '(a list)' : `(a ${typeof v})`;
}

export function decodeEnvelope(messageBody: string): WebhookEnvelope {
  let wire: Partial<WireEnvelopeV1>;
  try {
    wire = JSON.parse(messageBody) as Partial<WireEnvelopeV1>;
  } catch (error) {
    throw notJson(error);
  }
  if (typeof wire !== 'object' || wire === null) throw new EnvelopeError('not an object');
  if (wire.v !== ENVELOPE_VERSION) {
    throw new EnvelopeError(`unsupported version ${describeVersion(wire.v)}; this drain reads v${ENVELOPE_VERSION}`);
  }
  if (typeof wire.id !== 'string' || wire.id === '') throw new EnvelopeError('id is missing');
  if (typeof wire.at !== 'number' || !Number.isFinite(wire.at)) throw new EnvelopeError('at is not a number');
  if (typeof wire.ip !== 'string') throw new EnvelopeError('ip is missing');
  if (typeof wire.route !== 'string' || !wire.route.startsWith('/')) throw new EnvelopeError('route is missing');
  return {
    version: ENVELOPE_VERSION,
    requestId: wire.id,
    receivedAt: wire.at,
    sourceIp: wire.ip,
    route: wire.route,
    query: decodePairs(wire.q, 'q'),
    headers: decodePairs(wire.h, 'h'),
    body: decodeBase64(wire.b, 'b'),
  };
}

/** Case-insensitive header lookup (HTTP header names are case-insensitive). */
export function headerValue(envelope: Pick<WebhookEnvelope, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return envelope.headers.find(([key]) => key.toLowerCase() === wanted)?.[1];
}
