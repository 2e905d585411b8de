/**
 * A tiny HTTP proxy on loopback in front of the SQS emulator (fauxqs or LocalStack). It reads
 * each request's X-Amz-Target (SQS JSON protocol: `AmazonSQS.<Action>`), counts it, and can
 * fail or slow down chosen actions. The drain is pointed at the proxy (AWS_ENDPOINT_URL_SQS),
 * so what it counts is exactly what the drain asked SQS, independently of the drain's own
 * metrics.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { loopback } from '../../support/loopback-server';

export interface SqsProxyCall {
  readonly action: string;
  /** Queue URL named in the request, when there was one. */
  readonly queueUrl: string | undefined;
  /** HTTP status answered to the drain (500 for an injected fault). */
  status: number | undefined;
  readonly injected: boolean;
  /** The request's JSON input, as the drain sent it. */
  readonly input: Record<string, unknown> | undefined;
  /** ReceiveMessage only: the most messages of one FIFO group in the answer. */
  largestGroupBatch?: number;
}

export interface SqsFault {
  /** HTTP status to answer (default 500, InternalError). */
  readonly status?: number;
  /** Fail only this many calls, then pass through again; default: until cleared. */
  readonly times?: number;
}

export interface SqsProxy {
  readonly endpoint: string;
  readonly calls: SqsProxyCall[];
  /** Calls of one action (optionally on one queue) since the last reset. */
  count(action: string, queueUrl?: string): number;
  reset(): void;
  /** Fails `action` with a server error (null clears). */
  setFault(action: string, fault: SqsFault | null): void;
  /** Rewrites successful answers to `action` (null clears): e.g. message attributes SQS would report. */
  setRewrite(action: string, rewrite: ((output: Record<string, unknown>) => Record<string, unknown>) | null): void;
  /** Holds the answer to `action` back by `ms` after the emulator answered (0 clears). */
  setDelay(action: string, ms: number): void;
  stop(): Promise<void>;
}

function largestGroupBatch(answer: Buffer): number {
  try {
    const { Messages = [] } = JSON.parse(answer.toString('utf8')) as { Messages?: Array<{ Attributes?: { MessageGroupId?: string } }> };
    const perGroup = new Map<string, number>();
    for (const m of Messages) {
      const group = m.Attributes?.MessageGroupId ?? '';
      perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
    }
    return Math.max(0, ...perGroup.values());
  } catch {
    return 0;
  }
}

export async function startSqsProxy(upstream: string): Promise<SqsProxy> {
  const target = new URL(upstream);
  const calls: SqsProxyCall[] = [];
  const faults = new Map<string, { status: number; remaining: number }>();
  const delays = new Map<string, number>();
  const rewrites = new Map<string, (output: Record<string, unknown>) => Record<string, unknown>>();
  const timers = new Set<NodeJS.Timeout>();

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const targetHeader = String(req.headers['x-amz-target'] ?? '');
    const action = targetHeader.startsWith('AmazonSQS.') ? targetHeader.slice('AmazonSQS.'.length) : targetHeader || 'unknown';
    let input: Record<string, unknown> | undefined;
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      input = undefined;
    }
    const queueUrl = typeof input?.QueueUrl === 'string' ? input.QueueUrl : undefined;
    const fault = faults.get(action);
    if (fault && fault.remaining > 0) {
      fault.remaining -= 1;
      const call: SqsProxyCall = { action, queueUrl, status: fault.status, injected: true, input };
      calls.push(call);
      const text = JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'injected by the test proxy' });
      res.writeHead(fault.status, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(text), 'x-amzn-query-error': 'InternalError;Receiver' });
      res.end(text);
      return;
    }
    const call: SqsProxyCall = { action, queueUrl, status: undefined, injected: false, input };
    calls.push(call);
    const headers = { ...req.headers, host: target.host };
    const upstreamReq = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (upstreamRes) => {
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (c: Buffer) => chunks.push(c));
        upstreamRes.on('end', async () => {
          const delay = delays.get(action) ?? 0;
          if (delay > 0) await wait(delay);
          call.status = upstreamRes.statusCode;
          const raw = Buffer.concat(chunks);
          if (action === 'ReceiveMessage' && call.status === 200) call.largestGroupBatch = largestGroupBatch(raw);
          if (res.destroyed) return;
          const rewrite = rewrites.get(action);
          const out = rewrite && upstreamRes.statusCode === 200 ? Buffer.from(JSON.stringify(rewrite(JSON.parse(raw.toString('utf8')) as Record<string, unknown>))) : raw;
          const h = { ...upstreamRes.headers, 'content-length': String(out.length) };
          delete h['transfer-encoding'];
          res.writeHead(upstreamRes.statusCode ?? 502, h);
          res.end(out);
        });
      },
    );
    upstreamReq.on('error', (error) => {
      call.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(String(error));
    });
    upstreamReq.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  const listener = loopback(server);
  const port = await listener.listen();

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    count: (action, queueUrl) => calls.filter((c) => c.action === action && (queueUrl === undefined || c.queueUrl === queueUrl)).length,
    reset: () => {
      calls.length = 0;
    },
    setFault(action, fault) {
      if (fault === null) faults.delete(action);
      else faults.set(action, { status: fault.status ?? 500, remaining: fault.times ?? Number.POSITIVE_INFINITY });
    },
    setRewrite(action, rewrite) {
      if (rewrite) rewrites.set(action, rewrite);
      else rewrites.delete(action);
    },
    setDelay(action, ms) {
      if (ms > 0) delays.set(action, ms);
      else delays.delete(action);
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await listener.close();
    },
  };
}
