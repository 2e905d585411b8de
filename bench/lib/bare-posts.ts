/**
 * The Jenkins-side reference for S1: `lanes` loops POSTing the same signed deliveries to the
 * same loopback Jenkins over keep-alive node:http, with no SQS, no checks, no logging. Its
 * effective concurrency is the most any consumer reaches against that Jenkins on this machine
 * at that moment (the HTTP round trip between two processes is all it adds), so a drain's
 * figure is read next to it.
 */
import http from 'node:http';
import type { SentWebhook } from './workload';

export async function barePosts(jenkinsUrl: string, sent: readonly SentWebhook[], lanes: number): Promise<void> {
  const url = new URL(`${jenkinsUrl}/github-webhook/`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: lanes, maxFreeSockets: lanes });
  const post = (webhook: SentWebhook) =>
    new Promise<void>((resolve, reject) => {
      const { headers, body } = webhook.delivery;
      const raw = ['Host', url.host, ...headers.flat(), 'Content-Length', String(body.length)];
      const req = http.request(url, { method: 'POST', agent, headers: raw }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`Jenkins answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  // Repositories stay in order within a lane; the lanes share one cursor, as workers share a queue.
  let next = 0;
  try {
    await Promise.all(Array.from({ length: lanes }, async () => {
      for (let i = next++; i < sent.length; i = next++) await post(sent[i]);
    }));
  } finally {
    agent.destroy();
  }
}
