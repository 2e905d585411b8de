import http from 'node:http';
import https from 'node:https';
import type { ReplayRequest } from '../core/replay-request';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
  readonly body: string;
}

export class HttpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(url: URL, timeoutMs: number) {
    super(`no answer from ${url.origin} within ${timeoutMs} ms`);
    this.name = 'HttpTimeoutError';
  }
}

/** Bodies read back from Jenkins are only for diagnostics; never more than this. */
const MAX_ANSWER_BYTES = 4096;

/**
 * HTTP to Jenkins over keep-alive connections, at most `maxSockets` at once so the drain
 * can never open more parallel requests than its concurrency cap.
 */
export class JenkinsClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly baseUrl: URL,
    maxSockets: number,
  ) {
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
    this.agent = baseUrl.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  post(request: ReplayRequest, timeoutMs: number): Promise<HttpAnswer> {
    return this.send(request.url, 'POST', request.headers, request.body, timeoutMs);
  }

  /** A GET/HEAD under the base URL; `freshConnection` bypasses the keep-alive pool. */
  get(path: string, timeoutMs: number, method: 'GET' | 'HEAD' = 'GET', authorization?: string, freshConnection = false): Promise<HttpAnswer> {
    const url = new URL(this.baseUrl.href.replace(/\/+$/, '') + path);
    const headers: Array<[string, string]> = [['Accept', 'application/json']];
    if (authorization) headers.push(['Authorization', authorization]);
    return this.send(url, method, headers, undefined, timeoutMs, freshConnection);
  }

  close(): void {
    this.agent.destroy();
  }

  private send(url: URL, method: string, headers: Array<[string, string]>, body: Buffer | undefined, timeoutMs: number, freshConnection = false): Promise<HttpAnswer> {
    const transport = url.protocol === 'https:' ? https : http;
    // Raw (array) headers keep the sender's names and order, but then Node adds no Host itself.
    const flatHeaders: string[] = ['Host', url.host, ...headers.flat()];
    if (body !== undefined) flatHeaders.push('Content-Length', String(body.length));
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, agent: freshConnection ? false : this.agent, headers: flatHeaders }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          const answerHeaders: Record<string, string | undefined> = {};
          for (const [key, value] of Object.entries(res.headers)) answerHeaders[key] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: res.statusCode ?? 0, headers: answerHeaders, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') });
        });
        res.on('error', fail);
      });
      const timer = setTimeout(() => req.destroy(new HttpTimeoutError(url, timeoutMs)), timeoutMs);
      function fail(error: Error) {
        clearTimeout(timer);
        reject(error);
      }
      req.on('error', fail);
      req.end(body);
    });
  }
}
