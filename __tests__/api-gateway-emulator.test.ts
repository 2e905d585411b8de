import {
  TemplateTransformationError,
  javaEscapeJavaScript,
  javaUrlDecode,
  javaUrlEncode,
  renderRequestTemplate,
  renderResponseTemplate,
  renderTemplate,
  selectRequestTemplate,
  type EmulatedRequest,
} from './support/api-gateway';

function request(overrides: Partial<EmulatedRequest> = {}): EmulatedRequest {
  return {
    method: 'POST',
    path: '/github-webhook/',
    stage: 'live',
    headers: [['Content-Type', 'application/json']],
    query: [],
    body: Buffer.from('{}'),
    sourceIp: '203.0.113.7',
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    requestTimeEpoch: 1700000000123,
    ...overrides,
  };
}

const render = (template: string, overrides: Partial<EmulatedRequest> = {}) => renderTemplate(template, request(overrides));
const json = (body: string) => request({ body: Buffer.from(body, 'utf8') });

describe('template selection (passthrough NEVER)', () => {
  const templates = { 'application/json': 'J', 'application/x-www-form-urlencoded': 'F' };

  it('when the Content-Type has parameters and odd case, it selects by media type alone', () => {
    expect(selectRequestTemplate(templates, 'Application/JSON; charset=utf-8')).toEqual({ template: 'J' });
    expect(selectRequestTemplate(templates, 'application/x-www-form-urlencoded;charset=UTF-8')).toEqual({ template: 'F' });
  });

  it('when there is no Content-Type, it uses the application/json template', () => {
    expect(selectRequestTemplate(templates, undefined)).toEqual({ template: 'J' });
  });

  it('when no template matches, it answers 415', () => {
    expect(selectRequestTemplate(templates, 'text/plain')).toEqual({ status: 415 });
    expect(selectRequestTemplate(templates, 'application/json-patch+json')).toEqual({ status: 415 });
  });

  it('when matching by whole value, only a key equal to the whole header value is selected', () => {
    const spelled = { ...templates, 'application/json; charset=utf-8': 'J' };
    expect(selectRequestTemplate(spelled, 'application/json; charset=utf-8', 'whole-value')).toEqual({ template: 'J' });
    expect(selectRequestTemplate(spelled, 'application/json', 'whole-value')).toEqual({ template: 'J' });
    expect(selectRequestTemplate(spelled, undefined, 'whole-value')).toEqual({ template: 'J' });
    expect(selectRequestTemplate(spelled, 'application/json;charset=utf-8', 'whole-value')).toEqual({ status: 415 });
    expect(selectRequestTemplate(spelled, 'Application/JSON', 'whole-value')).toEqual({ status: 415 });
    expect(selectRequestTemplate(spelled, 'application/x-www-form-urlencoded; charset=utf-8', 'whole-value')).toEqual({ status: 415 });
  });

  it('when several keys share a media type, media-type matching accepts identical templates and refuses to guess between different ones', () => {
    expect(selectRequestTemplate({ 'application/json': 'J', 'application/json; charset=utf-8': 'J' }, 'application/json;charset=UTF-8')).toEqual({ template: 'J' });
    expect(() => selectRequestTemplate({ 'application/json': 'J', 'application/json; charset=utf-8': 'K' }, 'application/json')).toThrow(/not modelled/);
  });
});

describe('$util', () => {
  it("when escapeJavaScript meets a single quote, it emits \\' which JSON.parse rejects", () => {
    const out = render(`$util.escapeJavaScript($input.params('x'))`, { headers: [['x', "it's"]] });
    expect(out).toBe("it\\'s");
    expect(() => JSON.parse(`"${out}"`)).toThrow(SyntaxError);
  });

  it('when escapeJavaScript meets quotes, backslashes, slashes, controls and non-ASCII, it escapes them like commons-lang', () => {
    expect(javaEscapeJavaScript('"\\/\n\t\u0001é€😀')).toBe('\\"\\\\\\/\\n\\t\\u0001\\u00E9\\u20AC\\uD83D\\uDE00');
    // Everything but the single quote is also valid JSON escaping.
    expect(JSON.parse(`"${javaEscapeJavaScript('"\\/\n\t\u0001é€😀')}"`)).toBe('"\\/\n\t\u0001é€😀');
  });

  it('when urlEncode runs, it matches java.net.URLEncoder (space as +, only * - . _ left alone)', () => {
    const cases: Array<[string, string]> = [
      ['a b', 'a+b'],
      ["*-._~!'()", "*-._%7E%21%27%28%29"],
      ['a+b&c=d/e?f#g%h', 'a%2Bb%26c%3Dd%2Fe%3Ff%23g%25h'],
      ['é€😀', '%C3%A9%E2%82%AC%F0%9F%98%80'],
      ['\ud800', '%3F'], // a lone surrogate becomes '?', as String.getBytes does
    ];
    for (const [input, expected] of cases) {
      expect(javaUrlEncode(input)).toBe(expected);
      expect(render(`$util.urlEncode($input.params('v'))`, { query: [['v', input]] })).toBe(expected);
    }
  });

  it('when urlDecode runs, it turns + into space and rejects malformed escapes', () => {
    expect(javaUrlDecode('a+b%2Bc%C3%A9')).toBe('a b+cé');
    expect(() => javaUrlDecode('100%')).toThrow(/Incomplete trailing escape/);
    expect(() => javaUrlDecode('%zz')).toThrow(/Illegal hex/);
  });

  it('when base64Encode/base64Decode round-trip, they use UTF-8', () => {
    const out = render(`$util.base64Encode($input.body)|$util.base64Decode($util.base64Encode($input.body))`, { body: Buffer.from('héllo 😀') });
    const [encoded, decoded] = out.split('|');
    expect(Buffer.from(encoded!, 'base64').toString('utf8')).toBe('héllo 😀');
    expect(decoded).toBe('héllo 😀');
  });

  it('when parseJson returns an object, it behaves like a Java Map', () => {
    const out = render(
      `#set($d = $util.parseJson('{"a":{"b":"x"},"n":[1,2],"s":"q"}'))$d.a.b|$d.get('s')|$d.containsKey('n')|$d.n.size()|$d.n[1]|$d.size()|$!d.missing|$d.s.length()`,
    );
    expect(out).toBe('x|q|true|2|2|3||1');
  });
});

describe('Java String semantics', () => {
  it('when replaceAll is called, it treats the first argument as a regex and $n as a group', () => {
    expect(render(`#set($s = 'a.b.c')$s.replaceAll('.', '_')|$s.replace('.', '_')|$s.replaceAll('(\\w)\\.', '$1-')`)).toBe('_____|a_b_c|a-b-c');
  });

  it('when matches is called, it needs the whole string to match', () => {
    expect(render(`#set($s = 'abc')$s.matches('b')|$s.matches('a.c')|$s.matches('[a-c]{1,3}')`)).toBe('false|true|true');
  });

  it('when replaceAll sees a surrogate pair, it replaces it as one code point like java.util.regex', () => {
    expect(render(`$input.body.replaceAll('[^a-z]', '_')`, { body: Buffer.from('a😀b') })).toBe('a_b');
  });

  it('when trim is called, it strips only characters <= U+0020, as Java does', () => {
    expect(render(`[$input.body.trim()]`, { body: Buffer.from(' \t\u00a0x\u00a0\n') })).toBe('[\u00a0x\u00a0]');
  });

  it('when substring, indexOf, length, startsWith, contains, isEmpty, equals are called, they behave like Java', () => {
    const out = render(
      `#set($s = 'payload=abc&x')#set($e = $s.indexOf('&'))$s.substring(8, $e)|$s.substring(8)|$e|$s.length()|$s.startsWith('payload=')|$s.contains('abc')|$s.isEmpty()|#set($empty = '')$empty.isEmpty()|$s.equals('payload=abc&x')|$s.toUpperCase()`,
    );
    expect(out).toBe('abc|abc&x|11|13|true|true|false|true|true|PAYLOAD=ABC&X');
  });

  it('when substring is out of range, it throws like StringIndexOutOfBoundsException', () => {
    expect(() => render(`#set($s = 'abc')$s.substring(2, 9)`)).toThrow(/StringIndexOutOfBounds/);
  });
});

describe('Velocity 1.7 semantics', () => {
  it('when #if tests an empty string or zero, it is true; only null and false are false', () => {
    expect(render(`#set($e = '')#if($e)T#{else}F#end`)).toBe('T');
    expect(render(`#set($z = 0)#if($z)T#{else}F#end`)).toBe('T');
    expect(render(`#set($f = false)#if($f)T#{else}F#end`)).toBe('F');
    expect(render(`#if($undefined)T#{else}F#end`)).toBe('F');
    expect(render(`#if($input.path('$.missing'))T#{else}F#end`)).toBe('F');
    expect(render(`#set($e = '')#if(!$e || $undefined)T#{else}F#end`)).toBe('F');
  });

  it('when a reference is undefined or null, it renders literally, and $! renders it empty', () => {
    expect(render(`[$nope][$!nope][$input.path('$.missing')][$!input.path('$.missing')]`)).toBe(`[$nope][][$input.path('$.missing')][]`);
  });

  it('when #set gets a null right-hand side, it leaves the variable unchanged', () => {
    expect(render(`#set($x = 'kept')#set($x = $input.path('$.missing'))$x`)).toBe('kept');
  });

  it('when == compares strings from different sources, it compares their values', () => {
    const out = render(
      `#set($a = $input.body.trim())#set($b = "x$!nothing")#if($a == 'x')1#end#if($a == $b)2#end#if('x' == $a)3#end#if($a != 'y')4#end#if('1' == 1)5#end#if($missing == $alsoMissing)6#end#if($a == $missing)7#end`,
      { body: Buffer.from(' x ') },
    );
    expect(out).toBe('123456');
  });

  it('when #set in a loop gets null from a map, it keeps the previous iteration\'s value (the Velocity 1.7 trap)', () => {
    expect(render(`#set($m = $util.parseJson('{"a":"1","b":null}'))#foreach($k in $m.keySet())#set($v = $m.get($k))$k=$v;#end`)).toBe('a=1;b=1;');
  });

  it('when a double-quoted string has references and method calls, it interpolates them', () => {
    expect(render(`#set($name = 'Acme/Widgets')#set($g = "repo:$name.toLowerCase()")$g|$g.length()`)).toBe('repo:acme/widgets|17');
  });

  it('when #foreach runs, it exposes $foreach.count and $foreach.hasNext', () => {
    expect(render(`#foreach($i in ['a', 'b', 'c'])$foreach.count=$i#if($foreach.hasNext),#end#end`)).toBe('1=a,2=b,3=c');
  });

  it('when comparing numbers with < and >, it compares numerically', () => {
    expect(render(`#set($n = $input.body.indexOf('z'))#if($n < 0)neg#end#if($n > -2)gt#end`, { body: Buffer.from('abc') })).toBe('neggt');
  });
});

describe('$input and $context', () => {
  it('when $input.params() is iterated, it is a map of path/querystring/header Java maps', () => {
    const req = request({ headers: [['X-One', '1'], ['x-two', '2']], query: [['q', 'a b'], ['r', '&']] });
    const out = renderTemplate(
      `#set($p = $input.params())#foreach($k in $p.keySet())$k:#foreach($n in $p.get($k).keySet())$n=$p.get($k).get($n);#end|#end$p.header.size()|$p.header.containsKey('X-One')`,
      req,
    );
    expect(out).toBe('path:|querystring:q=a b;r=&;|header:X-One=1;x-two=2;|2|true');
  });

  it('when $input.params(name) is called, it searches path, then query, then headers (case-insensitively)', () => {
    const req = request({ pathParameters: { id: 'p' }, query: [['id', 'q'], ['only', 'q2']], headers: [['X-Only', 'h']] });
    expect(renderTemplate(`$input.params('id')|$input.params('only')|$input.params('x-only')|[$input.params('none')]`, req)).toBe('p|q2|h|[]');
  });

  it('when the body is not JSON, $input.path fails the transformation like API Gateway (400)', () => {
    expect(() => renderTemplate(`$input.path('$.a')`, json('{broken'))).toThrow(TemplateTransformationError);
    try {
      renderTemplate(`$input.json('$')`, json('{broken'));
    } catch (error) {
      expect((error as TemplateTransformationError).status).toBe(400);
    }
  });

  it('when the body is empty, $input.path and $input.json see {}', () => {
    expect(renderTemplate(`$input.json('$')|$!input.path('$.a')|[$input.body]`, json(''))).toBe('{}||[]');
  });

  it('when $input.json selects values, it renders JSON', () => {
    expect(renderTemplate(`$input.json('$.a')|$input.json('$.a.b')|$input.json("$['a']['n'][0]")`, json('{"a":{"b":"x\\"y","n":[1]}}'))).toBe(
      '{"b":"x\\"y","n":[1]}|"x\\"y"|1',
    );
  });

  it('when $context is read, it reports the stage-prefixed path, resource path, method, id, time and source IP', () => {
    const out = renderTemplate(
      `$context.path|$context.resourcePath|$context.stage|$context.httpMethod|$context.requestId|$context.requestTimeEpoch|$context.identity.sourceIp`,
      request(),
    );
    expect(out).toBe('/live/github-webhook/|/github-webhook|live|POST|c6af9ac6-7b61-11e6-9a41-93e8deadbeef|1700000000123|203.0.113.7');
  });

  it('when a request template sets $context.responseOverride.status, it is returned', () => {
    const result = renderRequestTemplate(`#if($input.body.length() > 3)#set($context.responseOverride.status = 413)#end`, json('{"a":1}'));
    expect(result.statusOverride).toBe(413);
    expect(renderRequestTemplate(`x`, json('{}')).statusOverride).toBeUndefined();
  });

  it('when a response template reads the integration body and overrides the status, both are returned', () => {
    const sqs = JSON.stringify({ SendMessageResponse: { SendMessageResult: { MessageId: 'm-1' } } });
    const out = renderResponseTemplate(
      `{"queued":"$input.path('$.SendMessageResponse.SendMessageResult.MessageId')"}#if($input.path('$.Error'))#set($context.responseOverride.status = 502)#end`,
      sqs,
    );
    expect(JSON.parse(out.body)).toEqual({ queued: 'm-1' });
    expect(out.statusOverride).toBeUndefined();
    expect(renderResponseTemplate(`#set($context.responseOverride.status = 502)`, '{"Error":{}}').statusOverride).toBe(502);
  });
});
