/**
 * The reference consumers the drain is compared with, each run on its own copy of the same
 * backlog in the same emulator process:
 *  - raw ceiling: `loops` parallel loops of ReceiveMessage(10) + DeleteMessageBatch spoken as raw
 *    JSON over node:http (no SDK, no signing, no forwarding): the cheapest consumer there is, so
 *    what the emulator itself can move;
 *  - naive relay: one loop of ReceiveMessage(1), POST to Jenkins, DeleteMessage, with the SDK.
 */
import http from 'node:http';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { decodeEnvelope } from '../../functions/shared/envelope';
import { buildReplayRequest } from '../../functions/drain/core/replay-request';

const ATTRIBUTES = ['MessageGroupId', 'SequenceNumber', 'MessageDeduplicationId', 'ApproximateReceiveCount', 'SentTimestamp'] as const;

export interface BaselineRun {
  readonly moved: number;
  readonly ms: number;
  readonly perSecond: number;
  readonly sqsCalls: number;
  readonly emptyReceives: number;
}

// Constant: emulators ignore the signature, and some read the account and region from it.
const AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0';

/** One SQS JSON-protocol call over a keep-alive agent; the answer parsed. */
function sqsCall<T>(agent: http.Agent, endpoint: URL, action: string, payload: unknown): Promise<T> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(endpoint, {
      method: 'POST', agent,
      headers: {
        'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': `AmazonSQS.${action}`, Authorization: AUTHORIZATION,
        'Content-Length': Buffer.byteLength(body),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`raw ${action}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
        resolve(JSON.parse(text) as T);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function rawCeiling(endpoint: string, queueUrl: string, expected: number, loops = 4, capMs = 60000): Promise<BaselineRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: loops });
  const url = new URL(endpoint);
  let moved = 0;
  let calls = 0;
  let empty = 0;
  const t0 = performance.now();
  const deadline = Date.now() + capMs;
  try {
    await Promise.all(Array.from({ length: loops }, async () => {
      while (moved < expected && Date.now() < deadline) {
        calls += 1;
        const r = await sqsCall<{ Messages?: Array<{ ReceiptHandle: string }> }>(agent, url, 'ReceiveMessage', {
          QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ATTRIBUTES,
        });
        const messages = r.Messages ?? [];
        if (messages.length === 0) {
          empty += 1;
          // Every remaining group is in flight with another loop: let it finish.
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        calls += 1;
        const d = await sqsCall<{ Failed?: unknown[] }>(agent, url, 'DeleteMessageBatch', {
          QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        });
        if ((d.Failed ?? []).length > 0) throw new Error(`raw DeleteMessageBatch failed: ${JSON.stringify(d.Failed)}`);
        moved += messages.length;
      }
    }));
  } finally {
    agent.destroy();
  }
  const ms = performance.now() - t0;
  return { moved, ms, perSecond: moved / (ms / 1000), sqsCalls: calls, emptyReceives: empty };
}

function post(agent: http.Agent, url: URL, headers: Array<[string, string]>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const flat = ['Host', url.host, ...headers.flat(), 'Content-Length', String(body.length)];
    const req = http.request(url, { method: 'POST', agent, headers: flat }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.setTimeout(10000, () => req.destroy(new Error('naive relay: Jenkins timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function naiveRelay(sqs: SQSClient, queueUrl: string, jenkinsUrl: string, expected: number, capMs = 60000): Promise<BaselineRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(jenkinsUrl);
  let moved = 0;
  let calls = 0;
  let empty = 0;
  const t0 = performance.now();
  const deadline = Date.now() + capMs;
  try {
    while (moved < expected && Date.now() < deadline) {
      calls += 1;
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, MessageSystemAttributeNames: [...ATTRIBUTES] }));
      const message = r.Messages?.[0];
      if (!message) {
        empty += 1;
        continue;
      }
      const request = buildReplayRequest(decodeEnvelope(message.Body!), base);
      const status = await post(agent, request.url, request.headers, request.body);
      if (status !== 200) throw new Error(`naive relay: Jenkins answered ${status}`);
      calls += 1;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      moved += 1;
    }
  } finally {
    agent.destroy();
  }
  const ms = performance.now() - t0;
  return { moved, ms, perSecond: moved / (ms / 1000), sqsCalls: calls, emptyReceives: empty };
}
