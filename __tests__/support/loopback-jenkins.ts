/**
 * A loopback HTTP server standing in for Jenkins (the GitHub plugin's `/github-webhook/` endpoint plus the
 * two health endpoints the drain probes), with behaviours that can be switched while a test runs.
 *
 * Signature check: `@octokit/webhooks-methods@6` is ESM-only (its package.json `exports` has only an `import`
 * condition, so neither `require` nor ts-jest's CommonJS output can load it), and its `verify()` takes the
 * payload as a *string*, which would re-encode the body and miss byte-level tampering. So this verifies
 * `X-Hub-Signature-256` itself with node:crypto: HMAC-SHA256 over the exact body bytes, compared with
 * `timingSafeEqual`, the same algorithm the Jenkins GitHub plugin and octokit use.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { loopback } from './loopback-server';

export type JenkinsBehaviour =
  /** Answers everything normally. */
  | { readonly kind: 'healthy' }
  /** The listener is closed: new connections are refused and open ones are dropped. */
  | { readonly kind: 'down' }
  /** 503 to every request, as Jenkins answers while it is starting up. */
  | { readonly kind: 'starting' }
  /** Waits `delayMs` before answering any request (then answers as healthy). */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /**
   * A share (`failureRate`, 0..1) of webhook POSTs get 503, chosen by a PRNG seeded with `seed` (default 1),
   * so the same arrival order gives the same outcomes. `retryAfterSeconds` adds a `Retry-After` header.
   */
  | { readonly kind: 'flaky'; readonly failureRate: number; readonly seed?: number; readonly retryAfterSeconds?: number }
  /** 400 for webhook POSTs whose `X-GitHub-Delivery` is in `deliveryIds`; 400 for all of them when omitted. */
  | { readonly kind: 'rejecting'; readonly deliveryIds?: Iterable<string> }
  /**
   * Probes pass, but every webhook POST gets `status`: a Jenkins mid-upgrade (GitHub plugin not
   * loaded: 404), behind a proxy or CSRF rule (403), or redirecting (302).
   */
  | { readonly kind: 'refusing'; readonly status: number }
  /** Healthy, but `/api/json` reports `quietingDown: true` (Jenkins still accepts webhooks in quiet-down). */
  | { readonly kind: 'quiet-down' };

export type JenkinsBehaviourName = 'healthy' | 'down' | 'starting' | 'quiet-down';

export interface LoopbackJenkinsOptions {
  /**
   * Shared webhook secret (several while a rotation is under way: any of them verifies). When
   * omitted, signatures are not checked and `signatureValid` is `null`.
   */
  readonly secret?: string | readonly string[];
  /** Jenkins `--prefix`, e.g. `/jenkins`. Requests outside it get 404. Default: none. */
  readonly contextPath?: string;
  /** Paths (inside the context path) that accept webhook POSTs. Default: `['/github-webhook/']`. */
  readonly webhookPaths?: readonly string[];
  /** Basic-auth user for `/api/json`. Default `spigot`. */
  readonly user?: string;
  /** Basic-auth API token for `/api/json`. Default `loopback-api-token`. */
  readonly apiToken?: string;
  /** Simulated work per accepted webhook POST, in ms. Default 0. */
  readonly serviceTimeMs?: number;
  /** Behaviour at start (never `down`). Default `healthy`. */
  readonly behaviour?: JenkinsBehaviour | Exclude<JenkinsBehaviourName, 'down'>;
}

export interface JenkinsDelivery {
  readonly method: string;
  /** Path inside the context path, e.g. `/github-webhook/` (what the drain's envelope calls `route`). */
  readonly path: string;
  /** Path as received, including the context path. */
  readonly fullPath: string;
  /** Raw query string without the `?`; '' when there is none. */
  readonly query: string;
  /** Node's lower-cased header map. */
  readonly headers: IncomingHttpHeaders;
  /** Header name/value pairs in arrival order with their original casing. */
  readonly rawHeaders: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  /** HMAC check of `X-Hub-Signature-256` over `body`; `null` when no secret is configured. */
  readonly signatureValid: boolean | null;
  /** `repository.full_name` from a JSON body or a form `payload=` field. */
  readonly repo: string | undefined;
  /** `X-GitHub-Delivery`. */
  readonly deliveryId: string | undefined;
  /** `X-GitHub-Event`. */
  readonly event: string | undefined;
  /** Epoch ms at which the request arrived. */
  readonly receivedAt: number;
  /** Status answered; `undefined` while in flight or when the client went away first. */
  status: number | undefined;
  /** Epoch ms at which the answer was sent. */
  answeredAt: number | undefined;
}

export interface JenkinsRequestLogEntry {
  readonly method: string;
  readonly fullPath: string;
  readonly receivedAt: number;
  status: number | undefined;
}

export interface LoopbackJenkins {
  /** Base URL without a trailing slash, including the context path, e.g. `http://127.0.0.1:40123/jenkins`. */
  readonly url: string;
  readonly port: number;
  /** Webhook POSTs (on webhook paths) in arrival order, whatever they were answered. */
  readonly deliveries: JenkinsDelivery[];
  /** Every request received, webhook or not. */
  readonly requests: JenkinsRequestLogEntry[];
  /** Webhook POSTs currently being handled. */
  readonly inFlight: number;
  /** Highest `inFlight` seen so far. */
  readonly maxInFlight: number;
  /** Requests to the health endpoints (`/whoAmI/api/json`, `/api/json`), whatever they were answered. */
  readonly probeCount: number;
  readonly user: string;
  readonly apiToken: string;
  readonly behaviour: JenkinsBehaviour;
  /** Deliveries answered 200. */
  accepted(): JenkinsDelivery[];
  /** Switches behaviour; resolves once a `down` listener is closed or a returning one listens again (same port). */
  setBehaviour(behaviour: JenkinsBehaviour | JenkinsBehaviourName): Promise<void>;
  setServiceTimeMs(ms: number): void;
  stop(): Promise<void>;
}

/** `sha256=<hex>` as GitHub sends it in `X-Hub-Signature-256`. */
export function signWebhookBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verifyWebhookSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signWebhookBody(secret, body), 'utf8');
  const given = Buffer.from(header, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** mulberry32: small, seedable, deterministic. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normalise(behaviour: JenkinsBehaviour | JenkinsBehaviourName): JenkinsBehaviour {
  return typeof behaviour === 'string' ? ({ kind: behaviour } as JenkinsBehaviour) : behaviour;
}

function repoOf(headers: IncomingHttpHeaders, body: Buffer): string | undefined {
  const type = (headers['content-type'] ?? '').toLowerCase();
  let json: string | undefined;
  if (type.startsWith('application/x-www-form-urlencoded')) {
    json = new URLSearchParams(body.toString('utf8')).get('payload') ?? undefined;
  } else {
    json = body.toString('utf8');
  }
  if (json === undefined) return undefined;
  try {
    const parsed = JSON.parse(json) as { repository?: { full_name?: unknown } };
    return typeof parsed?.repository?.full_name === 'string' ? parsed.repository.full_name : undefined;
  } catch {
    return undefined;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

export async function startLoopbackJenkins(options: LoopbackJenkinsOptions = {}): Promise<LoopbackJenkins> {
  const contextPath = (options.contextPath ?? '').replace(/\/+$/, '');
  if (contextPath !== '' && !contextPath.startsWith('/')) throw new Error(`contextPath must start with '/': ${contextPath}`);
  const webhookPaths = new Set(options.webhookPaths ?? ['/github-webhook/']);
  const user = options.user ?? 'spigot';
  const apiToken = options.apiToken ?? 'loopback-api-token';
  const expectedAuth = `Basic ${Buffer.from(`${user}:${apiToken}`).toString('base64')}`;

  let behaviour = normalise(options.behaviour ?? 'healthy');
  let rejectSet: Set<string> | undefined;
  let random = seededRandom(1);
  let serviceTimeMs = options.serviceTimeMs ?? 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let probeCount = 0;
  let stopped = false;
  const deliveries: JenkinsDelivery[] = [];
  const requests: JenkinsRequestLogEntry[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const applyBehaviour = (next: JenkinsBehaviour): void => {
    behaviour = next;
    rejectSet = next.kind === 'rejecting' && next.deliveryIds !== undefined ? new Set(next.deliveryIds) : undefined;
    if (next.kind === 'flaky') random = seededRandom(next.seed ?? 1);
  };
  applyBehaviour(behaviour);
  if (behaviour.kind === 'down') throw new Error('start the loopback Jenkins up, then setBehaviour("down")');

  const sleep = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, ms);
          timers.add(timer);
        });

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const send = (
    res: ServerResponse,
    entry: { status: number | undefined },
    status: number,
    body: string | object = '',
    headers: Record<string, string> = {},
  ): void => {
    if (res.destroyed || res.writableEnded) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const contentType = typeof body === 'string' ? 'text/plain;charset=utf-8' : 'application/json;charset=utf-8';
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'X-Jenkins': '2.516.1', ...headers });
    res.end(text);
    entry.status = status;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedAt = Date.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const fullPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? '' : rawUrl.slice(q + 1);
    const method = req.method ?? 'GET';
    const logEntry: JenkinsRequestLogEntry = { method, fullPath, receivedAt, status: undefined };
    requests.push(logEntry);
    const body = await readBody(req);

    const inContext = contextPath === '' || fullPath === contextPath || fullPath.startsWith(`${contextPath}/`);
    const path = inContext ? fullPath.slice(contextPath.length) || '/' : fullPath;
    const isWebhook = inContext && webhookPaths.has(path);
    const isProbe = inContext && (path === '/whoAmI/api/json' || path === '/api/json');
    if (isProbe) probeCount += 1;

    if (!isWebhook) {
      if (behaviour.kind === 'slow') await sleep(behaviour.delayMs);
      if (behaviour.kind === 'starting') {
        send(res, logEntry, 503, 'Jenkins is getting ready to work');
        return;
      }
      if (!isProbe) {
        send(res, logEntry, 404, 'Not Found');
        return;
      }
      if (method !== 'GET') {
        send(res, logEntry, 405, 'Method Not Allowed', { Allow: 'GET' });
        return;
      }
      const authenticated = req.headers.authorization === expectedAuth;
      if (path === '/whoAmI/api/json') {
        const name = authenticated ? user : 'anonymous';
        send(res, logEntry, 200, {
          _class: 'hudson.security.WhoAmI',
          anonymous: !authenticated,
          authenticated: true,
          authorities: authenticated ? ['authenticated'] : ['anonymous'],
          name,
        });
        return;
      }
      // /api/json: anonymous has no Overall/Read here (403); a wrong token is 401, as in Jenkins.
      if (req.headers.authorization === undefined) {
        send(res, logEntry, 403, 'Authentication required');
        return;
      }
      if (!authenticated) {
        send(res, logEntry, 401, 'Invalid password/token for user', { 'WWW-Authenticate': 'Basic realm="Jenkins"' });
        return;
      }
      const quietingDown = behaviour.kind === 'quiet-down';
      const tree = new URLSearchParams(query).get('tree');
      send(
        res,
        logEntry,
        200,
        tree === 'quietingDown'
          ? { _class: 'hudson.model.Hudson', quietingDown }
          : { _class: 'hudson.model.Hudson', mode: 'NORMAL', nodeName: '', numExecutors: 2, quietingDown, useSecurity: true },
      );
      return;
    }

    // A webhook path: only POST is accepted (Jenkins' @RequirePOST answers 405 otherwise).
    if (method !== 'POST') {
      send(res, logEntry, 405, 'Method Not Allowed', { Allow: 'POST' });
      return;
    }
    const delivery: JenkinsDelivery = {
      method,
      path,
      fullPath,
      query,
      headers: req.headers,
      rawHeaders: pairs(req.rawHeaders),
      body,
      signatureValid:
        options.secret === undefined
          ? null
          : [options.secret].flat().some((secret) => verifyWebhookSignature(secret, body, single(req.headers['x-hub-signature-256']))),
      repo: repoOf(req.headers, body),
      deliveryId: single(req.headers['x-github-delivery']),
      event: single(req.headers['x-github-event']),
      receivedAt,
      status: undefined,
      answeredAt: undefined,
    };
    deliveries.push(delivery);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      inFlight -= 1;
      if (delivery.status !== undefined) delivery.answeredAt = Date.now();
      logEntry.status = delivery.status;
    };
    res.once('finish', finish);
    res.once('close', finish);

    const current = behaviour;
    if (current.kind === 'slow') await sleep(current.delayMs);
    if (current.kind === 'starting') {
      send(res, delivery, 503, 'Jenkins is getting ready to work');
      return;
    }
    if (current.kind === 'flaky' && random() < current.failureRate) {
      const headers: Record<string, string> =
        current.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(current.retryAfterSeconds) };
      send(res, delivery, 503, 'Service Unavailable', headers);
      return;
    }
    if (current.kind === 'refusing') {
      send(res, delivery, current.status, 'Refused by loopback Jenkins');
      return;
    }
    if (current.kind === 'rejecting' && (rejectSet === undefined || (delivery.deliveryId !== undefined && rejectSet.has(delivery.deliveryId)))) {
      send(res, delivery, 400, 'Rejected by loopback Jenkins');
      return;
    }
    if (delivery.signatureValid === false) {
      send(res, delivery, 400, 'Provided signature did not match to calculated');
      return;
    }
    await sleep(serviceTimeMs);
    send(res, delivery, 200, '');
  };

  const server: Server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(error));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  // Closing drops keep-alive and in-flight connections too, like a Jenkins process going away.
  const listener = loopback(server);

  const port = await listener.listen(0);
  const url = `http://127.0.0.1:${port}${contextPath}`;

  return {
    url,
    port,
    deliveries,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get probeCount() {
      return probeCount;
    },
    user,
    apiToken,
    get behaviour() {
      return behaviour;
    },
    accepted: () => deliveries.filter((d) => d.status === 200),
    async setBehaviour(next) {
      if (stopped) throw new Error('loopback Jenkins is stopped');
      const target = normalise(next);
      applyBehaviour(target);
      if (target.kind === 'down') {
        await listener.close();
      } else if (!server.listening) {
        await listener.listen(port);
      }
    },
    setServiceTimeMs(ms) {
      serviceTimeMs = ms;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await listener.close();
    },
  };
}
