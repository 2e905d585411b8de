/**
 * Signed GitHub deliveries across repositories, accepted through the Edge (the synthesized
 * stack's real API Gateway templates, rendered by the VTL emulator) into fauxqs, plus the
 * checks on what Jenkins received (lost, duplicated, out of order per repository).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Edge } from '../../__tests__/support/edge';
import { queueDepth } from '../../__tests__/support/fauxqs';
import { githubDelivery, type Delivery } from '../../__tests__/support/webhooks';
import type { DeliveryRecord } from './procs';

export interface SentWebhook {
  readonly repo: string;
  readonly delivery: Delivery;
}

export function makeDeliveries(count: number, repos: number, prefix: string): SentWebhook[] {
  return Array.from({ length: count }, (_, i) => {
    const repo = `${prefix}-org/repo-${String(i % repos).padStart(2, '0')}`;
    // Mostly JSON, some form-encoded, as GitHub hooks are configured either way.
    return { repo, delivery: githubDelivery({ event: 'push', repo, contentType: i % 4 === 3 ? 'form' : 'json' }) };
  });
}

/** The SendMessage parameters the Edge rendered, in the order it sent them. */
export interface CapturedMessage {
  readonly MessageBody: string;
  readonly MessageGroupId: string;
  readonly MessageDeduplicationId?: string;
}

export async function acceptOne(edge: Edge, webhook: SentWebhook): Promise<void> {
  const answer = await edge.accept({ path: '/github-webhook/', headers: webhook.delivery.headers, body: webhook.delivery.body });
  if (answer.status !== 202 || !answer.reachedQueue) throw new Error(`the edge answered ${answer.status} ${answer.body.slice(0, 200)}`);
}

/**
 * Accepts every webhook through the Edge. `lanes` repositories are served at once, each
 * repository strictly one after another, so SQS order equals send order per repository.
 * Captures the rendered SendMessage parameters (the real envelopes) by wrapping fetch.
 */
export async function enqueueThroughEdge(edge: Edge, webhooks: readonly SentWebhook[], lanes = 8): Promise<{ ms: number; captured: CapturedMessage[] }> {
  const captured: CapturedMessage[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    if (typeof init?.body === 'string') {
      const p = JSON.parse(init.body) as CapturedMessage;
      captured.push({ MessageBody: p.MessageBody, MessageGroupId: p.MessageGroupId, MessageDeduplicationId: p.MessageDeduplicationId });
    }
    return realFetch(input, init);
  }) as typeof fetch;
  const byLane: SentWebhook[][] = Array.from({ length: lanes }, () => []);
  const laneOf = new Map<string, number>();
  for (const w of webhooks) {
    if (!laneOf.has(w.repo)) laneOf.set(w.repo, laneOf.size % lanes);
    byLane[laneOf.get(w.repo)!].push(w);
  }
  const t0 = performance.now();
  try {
    await Promise.all(byLane.map(async (lane) => {
      for (const w of lane) await acceptOne(edge, w);
    }));
  } finally {
    globalThis.fetch = realFetch;
  }
  return { ms: performance.now() - t0, captured };
}

/**
 * Copies captured envelopes into another queue (SendMessageBatch, order kept per group).
 * `dedupSuffix` lets the same envelopes into the same queue again within SQS's 5-minute
 * deduplication window.
 */
export async function replicate(sqs: SQSClient, queueUrl: string, messages: readonly CapturedMessage[], dedupSuffix = ''): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const chunk = messages.slice(start, start + 10);
    const result = await sqs.send(new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: chunk.map((m, i) => ({ Id: String(i), MessageBody: m.MessageBody, MessageGroupId: m.MessageGroupId, MessageDeduplicationId: m.MessageDeduplicationId === undefined ? undefined : `${m.MessageDeduplicationId}${dedupSuffix}` })),
    }));
    if ((result.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(result.Failed)}`);
  }
}

/** Adds one copy of the backlog to a queue (several copies need different `suffix`es). */
export async function fill(sqs: SQSClient, queueUrl: string, messages: readonly CapturedMessage[], suffix = ''): Promise<void> {
  const before = (await queueDepth(sqs, queueUrl)).visible;
  await replicate(sqs, queueUrl, messages, suffix);
  const after = (await queueDepth(sqs, queueUrl)).visible;
  if (after - before !== messages.length) throw new Error(`expected ${messages.length} more queued in ${queueUrl}, found ${before} then ${after}`);
}

export interface DeliveryCheck {
  readonly expected: number;
  readonly accepted: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly badSignatures: number;
  readonly notOk: number;
}

/** Compares what Jenkins received (arrival order) with what was sent (send order per repo). */
export function checkDeliveries(sent: readonly SentWebhook[], received: readonly DeliveryRecord[]): DeliveryCheck {
  const position = new Map<string, { repo: string; index: number }>();
  const perRepoCount = new Map<string, number>();
  for (const w of sent) {
    const index = perRepoCount.get(w.repo) ?? 0;
    perRepoCount.set(w.repo, index + 1);
    position.set(w.delivery.deliveryId, { repo: w.repo, index });
  }
  const seen = new Set<string>();
  const highest = new Map<string, number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let badSignatures = 0;
  let notOk = 0;
  let accepted = 0;
  for (const d of received) {
    const at = d.deliveryId === undefined ? undefined : position.get(d.deliveryId);
    if (!at) continue;
    if (d.signatureValid === false) badSignatures += 1;
    if (d.status !== 200) {
      notOk += 1;
      continue;
    }
    accepted += 1;
    if (seen.has(d.deliveryId!)) {
      duplicates += 1;
      continue;
    }
    seen.add(d.deliveryId!);
    const top = highest.get(at.repo) ?? -1;
    if (at.index < top) outOfOrder += 1;
    else highest.set(at.repo, at.index);
  }
  return { expected: sent.length, accepted, lost: sent.length - seen.size, duplicates, outOfOrder, badSignatures, notOk };
}

/** Only the records of these deliveries. */
export function recordsOf(sent: readonly SentWebhook[], received: readonly DeliveryRecord[]): DeliveryRecord[] {
  const ids = new Set(sent.map((w) => w.delivery.deliveryId));
  return received.filter((d) => d.deliveryId !== undefined && ids.has(d.deliveryId));
}
