import { classifyError, classifyResponse, parseRetryAfter, type Outcome } from '../../../functions/drain/core/outcome';

const NOW = Date.parse('2024-05-06T12:00:00.000Z');

describe('classifyResponse', () => {
  it.each([200, 201, 202, 204, 299])('when Jenkins answers %i, it is delivered', (status) => {
    expect(classifyResponse(status, {}, NOW)).toEqual({ kind: 'delivered', status });
  });

  it.each([429, 503])('when Jenkins answers %i with Retry-After in seconds, it is busy for that long', (status) => {
    expect(classifyResponse(status, { 'retry-after': '120' }, NOW)).toEqual({ kind: 'busy', status, retryAfterMs: 120_000 });
  });

  it.each([429, 503])('when Jenkins answers %i with Retry-After as an HTTP date, it is busy until that date', (status) => {
    const at = new Date(NOW + 30_000).toUTCString();
    expect(classifyResponse(status, { 'retry-after': at }, NOW)).toEqual({ kind: 'busy', status, retryAfterMs: 30_000 });
  });

  it('when Jenkins answers 503 without Retry-After, it is busy with no hint of how long', () => {
    const outcome = classifyResponse(503, {}, NOW);
    expect(outcome.kind).toBe('busy');
    expect(outcome).toMatchObject({ status: 503 });
    expect((outcome as Extract<Outcome, { kind: 'busy' }>).retryAfterMs).toBeUndefined();
  });

  it.each([500, 501, 502, 504, 507, 599, 408])('when Jenkins answers %i, it is transient and names the status', (status) => {
    const outcome = classifyResponse(status, { 'retry-after': '5' }, NOW);
    expect(outcome.kind).toBe('transient');
    expect(outcome).toMatchObject({ status });
    expect((outcome as Extract<Outcome, { kind: 'transient' }>).reason).toContain(String(status));
  });

  it.each([300, 301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 409, 413, 415, 422])(
    'when Jenkins answers %i, it is poison and names the status',
    (status) => {
      const outcome = classifyResponse(status, {}, NOW);
      expect(outcome.kind).toBe('poison');
      expect(outcome).toMatchObject({ status });
      expect((outcome as Extract<Outcome, { kind: 'poison' }>).reason).toContain(String(status));
    },
  );
});

describe('parseRetryAfter', () => {
  it.each([undefined, '', '   '])('when the header is absent or blank (%j), it gives no delay', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it.each([
    ['0', 0],
    ['1', 1000],
    [' 7 ', 7000],
    ['3600', 3_600_000],
    ['007', 7000],
  ])('when the header is delta-seconds %j, it gives %i ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it('when the header is an IMF-fixdate in the future, it gives the milliseconds until then', () => {
    expect(parseRetryAfter('Mon, 06 May 2024 12:01:30 GMT', NOW)).toBe(90_000);
  });

  it('when the header is an HTTP date in the past, it gives zero rather than a negative delay', () => {
    expect(parseRetryAfter('Mon, 06 May 2024 11:00:00 GMT', NOW)).toBe(0);
  });

  it('when the clock is injected, the HTTP date is measured from that clock', () => {
    const header = 'Mon, 06 May 2024 12:00:10 GMT';
    expect(parseRetryAfter(header, NOW)).toBe(10_000);
    expect(parseRetryAfter(header, NOW + 4000)).toBe(6000);
  });

  it.each(['soon', 'in a minute', '120 seconds', '0x10', 'NaN'])('when the header is garbage (%j), it gives no delay', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it.each(['-1', '-30', '1.5', '+5'])(
    'when the header is a number that is not valid delta-seconds (%j), it is ignored rather than read as a date',
    (value) => {
      // V8's Date.parse reads "-1" and "1.5" as dates in 2001, which would turn an invalid
      // header into "retry immediately" instead of the default hold.
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});

describe('classifyError', () => {
  it('when the error has an errno code, it is transient and the reason keeps the code and the message', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:8080'), { code: 'ECONNREFUSED' });
    const outcome = classifyError(error);
    expect(outcome.kind).toBe('transient');
    const reason = (outcome as Extract<Outcome, { kind: 'transient' }>).reason;
    expect(reason.startsWith('ECONNREFUSED')).toBe(true);
    expect(reason).toContain('connect ECONNREFUSED 10.0.0.5:8080');
    expect(outcome).not.toHaveProperty('status', expect.anything());
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'UND_ERR_SOCKET'])('when the code is %s, the reason names it', (code) => {
    const outcome = classifyError(Object.assign(new Error('boom'), { code }));
    expect(outcome).toEqual({ kind: 'transient', reason: `${code}: boom` });
  });

  it('when the error has no code, the reason is the message', () => {
    expect(classifyError(new Error('request timed out after 10000 ms'))).toEqual({ kind: 'transient', reason: 'request timed out after 10000 ms' });
  });
});
