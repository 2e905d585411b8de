import {
  ENVELOPE_VERSION,
  EnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  headerValue,
  type WebhookEnvelope,
} from '../../../functions/shared/envelope';

/** Looks like a GitHub token; V8's JSON.parse message would quote the start of it. */
const SECRET = 'ghp_R3allyS3cretT0kenValue0123456789';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function envelope(overrides: Partial<WebhookEnvelope> = {}): WebhookEnvelope {
  return {
    version: ENVELOPE_VERSION,
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    receivedAt: 1_700_000_000_123,
    sourceIp: '140.82.115.20',
    route: '/github-webhook/',
    query: [['token', 'a+b c&d=é'], ['job', '日本']],
    headers: [['Content-Type', 'application/json'], ['X-GitHub-Event', 'push'], ['X-Weird', '"quotes" \\ backslash \' apostrophe \u2028 line-sep']],
    body: ALL_BYTES,
    ...overrides,
  };
}

/** Builds a valid wire envelope, then lets a test break one field. */
function wire(patch: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...(JSON.parse(encodeEnvelope(envelope())) as Record<string, unknown>), ...patch });
}

function envelopeError(body: string): EnvelopeError {
  try {
    decodeEnvelope(body);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    return error as EnvelopeError;
  }
  throw new Error('decodeEnvelope did not throw');
}

describe('encodeEnvelope / decodeEnvelope', () => {
  it('when the body holds all 256 byte values, it round-trips byte for byte', () => {
    const decoded = decodeEnvelope(encodeEnvelope(envelope()));
    expect(Buffer.isBuffer(decoded.body)).toBe(true);
    expect(decoded.body.equals(ALL_BYTES)).toBe(true);
  });

  it('when bodies are arbitrary byte sequences, each round-trips exactly', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (const length of [0, 1, 2, 3, 4, 5, 63, 64, 65, 1000, 4097]) {
      const body = Buffer.from(Array.from({ length }, () => random() & 0xff));
      expect(decodeEnvelope(encodeEnvelope(envelope({ body }))).body.equals(body)).toBe(true);
    }
  });

  it('when headers and query hold unicode, quotes, backslashes and separators, every field round-trips', () => {
    const original = envelope();
    const decoded = decodeEnvelope(encodeEnvelope(original));
    expect(decoded.version).toBe(ENVELOPE_VERSION);
    expect(decoded.requestId).toBe(original.requestId);
    expect(decoded.receivedAt).toBe(original.receivedAt);
    expect(decoded.sourceIp).toBe(original.sourceIp);
    expect(decoded.route).toBe(original.route);
    expect(decoded.query).toEqual(original.query);
    expect(decoded.headers).toEqual(original.headers);
  });

  it('when header and query values are UTF-8 text, they come back as the same strings (all of U+0000..U+00FF and astral characters)', () => {
    const latin = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const original = envelope({ headers: [['X-Latin', latin], ['X-Emoji', '🚀 ✓']], query: [['q', latin], ['', '']] });
    const decoded = decodeEnvelope(encodeEnvelope(original));
    expect(decoded.headers).toEqual(original.headers);
    expect(decoded.query).toEqual(original.query);
  });

  it('when the envelope is encoded, the result is JSON whose sender-controlled fields are base64', () => {
    const encoded = encodeEnvelope(envelope());
    const parsed = JSON.parse(encoded) as { v: number; b: string; h: string[][]; q: string[][] };
    expect(parsed.v).toBe(1);
    for (const value of [parsed.b, ...parsed.h.flat(), ...parsed.q.flat()]) expect(value).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    expect(encoded).not.toContain('push');
  });

  it('when header order and duplicates matter, they are preserved', () => {
    const headers: Array<[string, string]> = [['B', '1'], ['a', '2'], ['B', '3']];
    expect(decodeEnvelope(encodeEnvelope(envelope({ headers }))).headers).toEqual(headers);
  });

  it.each([2, 0, null])('when the version is %j, it is rejected and the message names the version', (v) => {
    const error = envelopeError(wire({ v }));
    expect(error.message).toContain('unsupported version');
    expect(error.message).toContain(JSON.stringify(v));
    expect(error.message).toContain('v1');
  });

  it.each([SECRET, [SECRET], { token: SECRET }])('when the version is not a number (%j), it is rejected by type and the message does not quote it', (v) => {
    const error = envelopeError(wire({ v }));
    expect(error.message).toMatch(/unsupported version \(a (string|list|object)\)/);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('ghp_');
  });

  it('when the version is missing, it is rejected as an unsupported version', () => {
    const raw = JSON.parse(wire()) as Record<string, unknown>;
    delete raw.v;
    expect(envelopeError(JSON.stringify(raw)).message).toContain('unsupported version');
  });

  it.each(['', 'not json', '{"v":1', '<xml/>'])('when the message body is not JSON (%j), it says so', (body) => {
    const error = envelopeError(body);
    expect(error.message).toMatch(/^invalid webhook envelope: not JSON/);
    expect(error.name).toBe('EnvelopeError');
  });

  it.each([
    SECRET,
    `${SECRET} trailing`,
    `{"token": ${SECRET}}`,
    `{"v":1,"id":"${SECRET}`,
    `{"token":"${SECRET}",}`,
    `[${SECRET}]`,
  ])('when a body that is not JSON contains a secret-looking string (%j), the error message does not contain it', (body) => {
    const error = envelopeError(body);
    expect(error.message).toMatch(/^invalid webhook envelope: not JSON( \(at position \d+\))?$/);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('ghp_');
  });

  it.each(['null', '42', '"text"', 'true'])('when the message body is JSON but not an object (%s), it says so', (body) => {
    expect(envelopeError(body).message).toContain('not an object');
  });

  it.each([
    ['b', 'abc', 'b is not base64'],
    ['b', 'ab$=', 'b is not base64'],
    ['b', 'a===', 'b is not base64'],
    ['b', 12, 'b is not base64'],
    // Node's decoder would take these (URL-safe letters, a line break, non-zero padding bits): the check must not.
    ['b', 'ab-_', 'b is not base64'],
    ['b', 'QUJD\nQUJD', 'b is not base64'],
    ['b', 'QR==', 'b is not base64'],
    ['h', [['QQ==', '!!!!']], 'h[0][1] is not base64'],
    ['q', [['Q', 'QQ==']], 'q[0][0] is not base64'],
  ])('when field %s holds bad base64 (%j), the message names the field', (field, value, message) => {
    expect(envelopeError(wire({ [field]: value })).message).toContain(message);
  });

  it.each([
    ['h', 'nope', 'h is not a list'],
    ['q', undefined, 'q is not a list'],
    ['h', [['QQ==']], 'h[0] is not a [name, value] pair'],
    ['q', [['QQ==', 'QQ==', 'QQ==']], 'q[0] is not a [name, value] pair'],
  ])('when field %s is malformed (%j), the message says what is wrong', (field, value, message) => {
    const raw = JSON.parse(wire()) as Record<string, unknown>;
    if (value === undefined) delete raw[field];
    else raw[field] = value;
    expect(envelopeError(JSON.stringify(raw)).message).toContain(message);
  });

  it.each([
    [{ id: '' }, 'id is missing'],
    [{ id: 7 }, 'id is missing'],
    [{ at: 'yesterday' }, 'at is not a number'],
    [{ ip: null }, 'ip is missing'],
    [{ route: 'github-webhook/' }, 'route is missing'],
  ])('when metadata is wrong (%j), the message names the field', (patch, message) => {
    expect(envelopeError(wire(patch)).message).toContain(message);
  });
});

describe('headerValue', () => {
  const env = { headers: [['X-GitHub-Event', 'push'], ['content-type', 'application/json'], ['X-Dup', 'first'], ['x-dup', 'second']] as Array<[string, string]> };

  it.each(['X-GitHub-Event', 'x-github-event', 'X-GITHUB-EVENT'])('when asked for %s, it finds the header whatever the casing', (name) => {
    expect(headerValue(env, name)).toBe('push');
  });

  it('when the stored name is lower case and the query is mixed case, it still finds it', () => {
    expect(headerValue(env, 'Content-Type')).toBe('application/json');
  });

  it('when a header appears twice, it returns the first', () => {
    expect(headerValue(env, 'X-DUP')).toBe('first');
  });

  it('when the header is absent, it returns undefined', () => {
    expect(headerValue(env, 'X-Hub-Signature-256')).toBeUndefined();
  });
});
