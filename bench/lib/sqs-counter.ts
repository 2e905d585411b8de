/**
 * Counts the SQS API calls this process makes to fauxqs, by action, without a proxy hop:
 * node:http's request() is wrapped while counting (the bundled SDK calls http.request at
 * call time, so the drain's calls are seen, retries included). Only requests to the
 * emulator's port are counted.
 */
import http from 'node:http';

export interface SqsCallCounter {
  total(): number;
  byAction(): Record<string, number>;
  stop(): void;
}

export function countSqsCalls(endpoint: string): SqsCallCounter {
  const port = Number(new URL(endpoint).port);
  const counts: Record<string, number> = {};
  const original = http.request;
  let active = true;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    if (!active) return (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const options = (typeof args[0] === 'object' && args[0] !== null && !(args[0] instanceof URL) ? args[0] : args[1]) as
      | { port?: number | string; headers?: Record<string, unknown> }
      | undefined;
    if (options && Number(options.port) === port) {
      const headers = options.headers ?? {};
      const target = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1];
      const action = typeof target === 'string' ? target.replace(/^AmazonSQS\./, '') : 'unknown';
      counts[action] = (counts[action] ?? 0) + 1;
    }
    return (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
  } as typeof http.request;
  http.request = wrapped;
  return {
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    byAction: () => ({ ...counts }),
    stop() {
      // The SDK caches the request function it first saw, so the wrapper may outlive stop(): it then only passes through.
      active = false;
      if (http.request === wrapped) http.request = original;
    },
  };
}
