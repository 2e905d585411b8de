import { UnreplayableHeaderError, buildReplayRequest, replayUrl, shouldReplayHeader, wireHeader } from '../../../functions/drain/core/replay-request';
import type { WebhookEnvelope } from '../../../functions/shared/envelope';

function envelope(overrides: Partial<WebhookEnvelope> = {}): WebhookEnvelope {
  return {
    version: 1,
    requestId: 'req-1',
    receivedAt: 1_700_000_000_000,
    sourceIp: '140.82.115.20',
    route: '/github-webhook/',
    query: [],
    headers: [],
    body: Buffer.from('{"zen":"Keep it logically awesome."}'),
    ...overrides,
  };
}

describe('replayUrl', () => {
  it.each(['https://ci.example.com/jenkins', 'https://ci.example.com/jenkins/', 'https://ci.example.com/jenkins//'])(
    'when JENKINS_URL is %s, it keeps the /jenkins context path exactly once',
    (jenkins) => {
      const url = replayUrl(new URL(jenkins), '/github-webhook/', []);
      expect(url.href).toBe('https://ci.example.com/jenkins/github-webhook/');
    },
  );

  it.each(['https://ci.example.com', 'https://ci.example.com/'])('when JENKINS_URL has no context path (%s), it uses the route as the path', (jenkins) => {
    expect(replayUrl(new URL(jenkins), '/github-webhook/', []).href).toBe('https://ci.example.com/github-webhook/');
  });

  it('when JENKINS_URL has a port and a nested context path, both are kept', () => {
    const url = replayUrl(new URL('http://jenkins.internal:8080/ci/jenkins/'), '/generic-webhook-trigger/invoke', []);
    expect(url.href).toBe('http://jenkins.internal:8080/ci/jenkins/generic-webhook-trigger/invoke');
  });

  it('when there is no query, the URL has no question mark', () => {
    expect(replayUrl(new URL('https://ci.example.com/jenkins/'), '/github-webhook/', []).href).not.toContain('?');
  });

  it('when query values contain +, space, &, = and unicode, they are re-encoded so Jenkins decodes the same values', () => {
    const query: Array<[string, string]> = [
      ['token', 'a+b c&d=e'],
      ['job', 'réseau/日本'],
      ['empty', ''],
      ['token', 'second'],
    ];
    const url = replayUrl(new URL('https://ci.example.com/jenkins/'), '/generic-webhook-trigger/invoke', query);
    expect([...url.searchParams.entries()]).toEqual(query);
    expect(url.search).toContain('token=a%2Bb+c%26d%3De');
    expect(url.search).toContain('job=r%C3%A9seau%2F%E6%97%A5%E6%9C%AC');
    expect(url.pathname).toBe('/jenkins/generic-webhook-trigger/invoke');
  });

  it('when query keys need encoding, the keys round-trip too', () => {
    const query: Array<[string, string]> = [['a b&c', '1'], ['ключ', '2']];
    const url = replayUrl(new URL('https://ci.example.com'), '/x', query);
    expect([...url.searchParams.entries()]).toEqual(query);
  });

  it('when JENKINS_URL itself has a query or fragment, neither leaks into the replay URL', () => {
    const url = replayUrl(new URL('https://ci.example.com/jenkins/?x=1#frag'), '/github-webhook/', [['y', '2']]);
    expect(url.href).toBe('https://ci.example.com/jenkins/github-webhook/?y=2');
  });
});

describe('buildReplayRequest', () => {
  const dropped: Array<[string, string]> = [
    ['Host', 'abc.execute-api.eu-west-1.amazonaws.com'],
    ['Content-Length', '36'],
    ['Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=5'],
    ['Transfer-Encoding', 'chunked'],
    ['TE', 'trailers'],
    ['Trailer', 'Expires'],
    ['Upgrade', 'h2c'],
    ['Proxy-Authorization', 'Basic xyz'],
    ['Proxy-Connection', 'keep-alive'],
    ['Expect', '100-continue'],
    ['Via', '1.1 cloudfront'],
    ['X-Forwarded-For', '1.2.3.4, 5.6.7.8'],
    ['X-Forwarded-Proto', 'https'],
    ['x-forwarded-port', '443'],
    ['X-Forwarded-Host', 'evil.example'],
    ['X-Amzn-Trace-Id', 'Root=1-abc'],
  ];
  const kept: Array<[string, string]> = [
    ['User-Agent', 'GitHub-Hookshot/abc123'],
    ['X-GitHub-Event', 'push'],
    ['X-GitHub-Delivery', '72d3162e-cc78-11e3-81ab-4c9367dc0958'],
    ['content-type', 'application/json'],
    ['X-Hub-Signature-256', 'sha256=deadbeef'],
    ['X-Custom', 'one'],
    ['X-Custom', 'two'],
    ['Accept', '*/*'],
  ];
  // Interleave so order preservation is tested across dropped headers.
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < Math.max(dropped.length, kept.length); i += 1) {
    if (dropped[i]) headers.push(dropped[i]);
    if (kept[i]) headers.push(kept[i]);
  }

  it('when headers are replayed, hop-by-hop, Host, Content-Length and X-Forwarded-* are dropped', () => {
    const request = buildReplayRequest(envelope({ headers }), new URL('https://ci.example.com/jenkins/'));
    const names = request.headers.map(([n]) => n.toLowerCase());
    for (const [name] of dropped) {
      if (name.toLowerCase() === 'x-forwarded-for') continue;
      expect(names).not.toContain(name.toLowerCase());
    }
    expect(request.headers.filter(([n]) => n.toLowerCase().startsWith('x-forwarded-')).map(([n]) => n)).toEqual(['X-Forwarded-For']);
  });

  it('when headers are replayed, every other header is kept with its original casing, value and order, duplicates included', () => {
    const request = buildReplayRequest(envelope({ headers }), new URL('https://ci.example.com/jenkins/'));
    expect(request.headers.slice(0, kept.length)).toEqual(kept);
  });

  it('when headers are replayed, X-Forwarded-For carries only the original source ip', () => {
    const request = buildReplayRequest(envelope({ headers, sourceIp: '192.30.252.1' }), new URL('https://ci.example.com/'));
    const xff = request.headers.filter(([n]) => n.toLowerCase() === 'x-forwarded-for');
    expect(xff).toEqual([['X-Forwarded-For', '192.30.252.1']]);
  });

  it('when a request is built, it is a POST to the replay URL with the very same body bytes', () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const env = envelope({ body, query: [['token', 'a b']], route: '/github-webhook/' });
    const request = buildReplayRequest(env, new URL('https://ci.example.com/jenkins'));
    expect(request.method).toBe('POST');
    expect(request.url.href).toBe('https://ci.example.com/jenkins/github-webhook/?token=a+b');
    expect(Buffer.isBuffer(request.body)).toBe(true);
    expect(request.body.equals(body)).toBe(true);
  });

  it('when the envelope has no headers, only the forwarding headers the drain adds are sent', () => {
    const request = buildReplayRequest(envelope(), new URL('https://ci.example.com/'));
    expect(request.headers.map(([n]) => n.toLowerCase())).not.toContain('host');
    expect(request.headers.find(([n]) => n === 'X-Forwarded-For')?.[1]).toBe('140.82.115.20');
  });

  it('when the request is built, the envelope\'s headers are not modified', () => {
    const env = envelope({ headers: headers.map(([n, v]): [string, string] => [n, v]) });
    const before = JSON.stringify(env.headers);
    buildReplayRequest(env, new URL('https://ci.example.com/'));
    expect(JSON.stringify(env.headers)).toBe(before);
  });
});

describe('shouldReplayHeader', () => {
  it.each(['HOST', 'content-length', 'CONNECTION', 'X-FORWARDED-FOR', 'x-forwarded-anything', 'Transfer-Encoding'])(
    'when the header is %s in any case, it is not replayed',
    (name) => expect(shouldReplayHeader(name)).toBe(false),
  );

  it.each(['Content-Type', 'X-Hub-Signature-256', 'X-GitHub-Event', 'Authorization', 'X-Gitlab-Token', 'forwarded-by-me'])(
    'when the header is %s, it is replayed',
    (name) => expect(shouldReplayHeader(name)).toBe(true),
  );
});

describe('wireHeader', () => {
  it('when a value is plain ASCII or latin1, it is sent as is', () => {
    expect(wireHeader('X-Title', 'fix "quotes" \\ and café')).toEqual(['X-Title', 'fix "quotes" \\ and café']);
  });

  it('when a value has characters beyond latin1, it is sent as its UTF-8 bytes', () => {
    const [, wire] = wireHeader('X-Title', '修正 🚀');
    expect(Buffer.from(wire, 'latin1').toString('utf8')).toBe('修正 🚀');
  });

  it('when a name or value cannot travel in HTTP at all, it says which header', () => {
    expect(() => wireHeader('X-Bad', 'line\r\nInjected: yes')).toThrow(UnreplayableHeaderError);
    expect(() => wireHeader('Bad Name', 'x')).toThrow(/"Bad Name"/);
  });
});
