/**
 * `spigot smoke`: posts one signed test delivery through the public webhook URL and checks that Spigot
 * queued it (202 with `{"queued":true,"requestId":...}`).
 *
 * Contract with the drain (docs/runbook.md, "Smoke deliveries"): an envelope with an `X-Spigot-Smoke`
 * header is a smoke delivery; the drain deletes it without forwarding it to Jenkins. So a smoke test never
 * triggers a build, and while the spigot is closed it simply waits in the buffer like any delivery.
 */
import { randomUUID } from 'node:crypto';
import { githubSignature } from '../../functions/shared/github-signature';
import { SMOKE_HEADER } from '../../functions/shared/webhook-headers';
import { CliError, UsageError } from '../errors';

export interface SmokeOptions {
  readonly webhookUrl: string;
  /** Name of the environment variable holding the webhook secret (never the secret itself). */
  readonly secretEnv: string;
  readonly env: NodeJS.ProcessEnv;
  /** @default 10000 */
  readonly timeoutMs?: number;
  /**
   * A plain signed ping, without X-Spigot-Smoke: the drain releases it to Jenkins like any delivery
   * (the GitHub plugin accepts a ping harmlessly). See smoke-end-to-end.ts.
   */
  readonly endToEnd?: boolean;
  /** Replaceable in tests. */
  readonly fetch?: typeof fetch;
}

export interface SmokeResult {
  readonly webhookUrl: string;
  readonly smokeId: string;
  readonly status: number;
  readonly queued: true;
  readonly requestId: string;
  readonly elapsedMs: number;
  /** Epoch ms the API answered 202. */
  readonly queuedAt: number;
  readonly endToEnd: boolean;
}

export async function smoke(options: SmokeOptions): Promise<SmokeResult> {
  let url: URL;
  try {
    url = new URL(options.webhookUrl);
  } catch {
    throw new UsageError(`webhook URL ${JSON.stringify(options.webhookUrl)} is not an absolute URL`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.secretEnv)) {
    throw new UsageError(`--secret-env takes the NAME of an environment variable holding the secret, got ${JSON.stringify(options.secretEnv)}`);
  }
  const secret = options.env[options.secretEnv];
  if (secret === undefined || secret === '') {
    throw new UsageError(`environment variable ${options.secretEnv} (named by --secret-env) is unset or empty; export the webhook secret in it`);
  }
  const smokeId = randomUUID();
  const zen = options.endToEnd ? 'Spigot end-to-end smoke test: released to Jenkins.' : 'Spigot smoke test: the drain discards this delivery.';
  const body = Buffer.from(JSON.stringify({ zen, hook_id: 0, spigot_smoke: smokeId }), 'utf8');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = Date.now();
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'spigot-cli-smoke',
        'X-GitHub-Event': 'ping',
        'X-GitHub-Delivery': smokeId,
        'X-Hub-Signature-256': githubSignature(secret, body),
        ...(options.endToEnd ? {} : { [SMOKE_HEADER]: smokeId }),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new CliError(`smoke failed: ${url.origin}${url.pathname} did not answer within ${timeoutMs} ms`);
    }
    throw new CliError(`smoke failed: cannot reach ${url.origin}${url.pathname}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  }
  const text = await response.text().catch(() => '');
  const elapsedMs = Date.now() - started;
  let answer: { queued?: unknown; requestId?: unknown; message?: unknown } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // reported below
  }
  const said = typeof answer.message === 'string' ? `: ${answer.message}` : text && !text.trim().startsWith('{') ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : '';
  if (response.status !== 202) {
    throw new CliError(`smoke failed: expected 202 from ${url.origin}${url.pathname}, got ${response.status}${said}`);
  }
  if (answer.queued !== true || typeof answer.requestId !== 'string' || answer.requestId === '') {
    throw new CliError(`smoke failed: 202 but the answer does not say {"queued":true,"requestId":...}: ${text.slice(0, 200)}`);
  }
  return { webhookUrl: options.webhookUrl, smokeId, status: response.status, queued: true, requestId: answer.requestId, elapsedMs, queuedAt: Date.now(), endToEnd: Boolean(options.endToEnd) };
}
