import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { WebhookEnvelope } from '../../shared/envelope';

export interface ReplayRequest {
  readonly url: URL;
  readonly method: 'POST';
  readonly headers: Array<[string, string]>;
  readonly body: Buffer;
}

/**
 * Headers never replayed: hop-by-hop ones (RFC 9110 §7.6.1), ones the HTTP client sets
 * for the new connection, ones API Gateway/CloudFront add, and X-Forwarded-* (replaced).
 */
const DROPPED = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect',
  'via', 'forwarded', 'x-amzn-trace-id', 'x-amz-cf-id', 'x-amzn-vpce-id', 'x-amzn-vpce-config',
  'cloudfront-forwarded-proto', 'cloudfront-is-desktop-viewer', 'cloudfront-is-mobile-viewer',
  'cloudfront-is-smarttv-viewer', 'cloudfront-is-tablet-viewer', 'cloudfront-viewer-asn', 'cloudfront-viewer-country',
]);

export function shouldReplayHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return !DROPPED.has(lower) && !lower.startsWith('x-forwarded-');
}

/** Joins the original route and query onto JENKINS_URL, keeping its context path. */
export function replayUrl(jenkinsUrl: URL, route: string, query: ReadonlyArray<readonly [string, string]>): URL {
  const base = jenkinsUrl.pathname.replace(/\/+$/, '');
  const url = new URL(jenkinsUrl.origin);
  url.pathname = `${base}${route}`;
  url.search = new URLSearchParams(query.map(([k, v]): [string, string] => [k, v])).toString();
  return url;
}

export class UnreplayableHeaderError extends Error {
  constructor(name: string, problem: string) {
    super(`header ${JSON.stringify(name.slice(0, 64))} cannot be replayed over HTTP: ${problem}`);
    this.name = 'UnreplayableHeaderError';
  }
}

/**
 * Header values travel as bytes; Node writes a string's characters as latin1. A value with
 * characters above U+00FF arrived as UTF-8, so it is sent as those same UTF-8 bytes.
 */
export function wireHeader(name: string, value: string): [string, string] {
  const wire = /[^\u0000-\u00ff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
  try {
    validateHeaderName(name);
    validateHeaderValue(name, wire);
  } catch (error) {
    throw new UnreplayableHeaderError(name, (error as Error).message);
  }
  return [name, wire];
}

/** Throws UnreplayableHeaderError for a header no HTTP request can carry. */
export function buildReplayRequest(envelope: WebhookEnvelope, jenkinsUrl: URL): ReplayRequest {
  const headers: Array<[string, string]> = envelope.headers
    .filter(([name]) => shouldReplayHeader(name))
    .map(([name, value]) => wireHeader(name, value));
  // The original sender's address, as a reverse proxy would record it.
  headers.push(['X-Forwarded-For', envelope.sourceIp]);
  headers.push(['X-Spigot-Request-Id', envelope.requestId]);
  return { url: replayUrl(jenkinsUrl, envelope.route, envelope.query), method: 'POST', headers, body: envelope.body };
}
