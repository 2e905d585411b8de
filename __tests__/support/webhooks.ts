/**
 * Webhook deliveries as GitHub sends them, built from the real example payloads in
 * @octokit/webhooks-examples and signed like GitHub signs them.
 *
 * @octokit/webhooks-methods@6 is ESM only ("exports" has only an `import` condition), so
 * jest's CommonJS runtime cannot load it. Signing here uses node:crypto (HMAC-SHA256 over
 * the exact body bytes, which is all `sign` does); `octokitVerify` runs the real
 * `verify`/`sign` from @octokit/webhooks-methods in a child Node process so tests can
 * check both the fixture and the decoded envelope against the library.
 */
import { spawnSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import examples from '@octokit/webhooks-examples';

export const WEBHOOK_SECRET = 'It’s a Secret to Everybody';

export type ContentKind = 'json' | 'form';

export interface Delivery {
  readonly headers: Array<[string, string]>;
  readonly body: Buffer;
  /** The JSON document that was sent (inside `payload=` for form deliveries). */
  readonly payload: Record<string, unknown>;
  readonly deliveryId: string;
  readonly hookId: string;
}

export interface GithubDeliveryOptions {
  /** A GitHub event name that @octokit/webhooks-examples has examples for, e.g. push. */
  readonly event: string;
  /** repository.full_name to send; omit for the example's own (or none, for org events). */
  readonly repo?: string;
  /** Replaces the example payload entirely. */
  readonly payload?: Record<string, unknown>;
  readonly contentType: ContentKind;
  readonly hookId?: string;
  readonly deliveryId?: string;
  /** Which example of that event to use (default: the first). */
  readonly exampleIndex?: number;
}

type Example = Record<string, unknown>;

/** A deep copy of a real GitHub example payload. */
export function examplePayload(event: string, index = 0): Example {
  const definition = (examples as unknown as Array<{ name: string; examples: Example[] }>).find((d) => d.name === event);
  const example = definition?.examples[index];
  if (!example) throw new Error(`@octokit/webhooks-examples has no example ${index} for ${event}`);
  return JSON.parse(JSON.stringify(example)) as Example;
}

/** application/x-www-form-urlencoded as Ruby's URI.encode_www_form_component / Java URLEncoder. */
export function wwwFormEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9*\-._]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** What GitHub puts in X-Hub-Signature-256: HMAC-SHA256 of the exact body bytes. */
export function signatureOf(body: Buffer | string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The legacy X-Hub-Signature (HMAC-SHA1) GitHub still sends alongside. */
function sha1SignatureOf(body: Buffer, secret: string): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

/** Case-insensitive header lookup. */
export function header(headers: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  return headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

export function githubDelivery(options: GithubDeliveryOptions): Delivery {
  const payload = options.payload ? (JSON.parse(JSON.stringify(options.payload)) as Example) : examplePayload(options.event, options.exampleIndex);
  const repository = payload.repository as Record<string, unknown> | undefined;
  if (options.repo !== undefined) {
    if (!repository) throw new Error(`the ${options.event} example has no repository to rename`);
    const [owner, ...rest] = options.repo.split('/');
    repository.full_name = options.repo;
    repository.name = rest.join('/');
    if (repository.owner && typeof repository.owner === 'object') (repository.owner as Record<string, unknown>).login = owner;
  }
  const json = JSON.stringify(payload);
  const body = Buffer.from(options.contentType === 'json' ? json : `payload=${wwwFormEncode(json)}`, 'utf8');
  const deliveryId = options.deliveryId ?? randomUUID();
  const hookId = options.hookId ?? String(100000000 + Math.floor(Math.random() * 900000000));
  const organization = payload.organization as { id?: number } | undefined;
  const [targetType, targetId] = repository
    ? ['repository', String((repository.id as number | undefined) ?? 1)]
    : ['organization', String(organization?.id ?? 1)];
  const headers: Array<[string, string]> = [
    ['Accept', '*/*'],
    ['Content-Type', options.contentType === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'],
    ['User-Agent', 'GitHub-Hookshot/a1b2c3d'],
    ['X-GitHub-Delivery', deliveryId],
    ['X-GitHub-Event', options.event],
    ['X-GitHub-Hook-ID', hookId],
    ['X-GitHub-Hook-Installation-Target-ID', targetId],
    ['X-GitHub-Hook-Installation-Target-Type', targetType],
    ['X-Hub-Signature', sha1SignatureOf(body, WEBHOOK_SECRET)],
    ['X-Hub-Signature-256', signatureOf(body)],
  ];
  return { headers, body, payload, deliveryId, hookId };
}

/** A GitLab delivery: X-Gitlab-Event-UUID and project.path_with_namespace. */
export function gitlabDelivery(options: { project: string; eventUuid?: string; token?: string }): Delivery {
  const eventUuid = options.eventUuid ?? randomUUID();
  const payload: Example = {
    object_kind: 'push',
    event_name: 'push',
    before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
    after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    ref: 'refs/heads/main',
    project: { id: 15, name: options.project.split('/').pop(), path_with_namespace: options.project, default_branch: 'main' },
    // GitLab's push payload has a repository object without full_name.
    repository: { name: options.project.split('/').pop(), url: `git@example.com:${options.project}.git`, homepage: `https://example.com/${options.project}` },
    commits: [{ id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', message: 'Fix “quotes” & ünïcödé ✓', timestamp: '2024-01-01T00:00:00+00:00' }],
    total_commits_count: 1,
  };
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const headers: Array<[string, string]> = [
    ['Content-Type', 'application/json'],
    ['User-Agent', 'GitLab/17.0.0'],
    ['X-Gitlab-Event', 'Push Hook'],
    ['X-Gitlab-Event-UUID', eventUuid],
    ['X-Gitlab-Instance', 'https://gitlab.example.com'],
    ['X-Gitlab-Token', options.token ?? 'gitlab-secret-token'],
  ];
  return { headers, body, payload, deliveryId: eventUuid, hookId: '' };
}

export interface OctokitCheck {
  readonly payload: string;
  readonly signature: string;
  readonly secret?: string;
}

/**
 * Runs @octokit/webhooks-methods in a child Node process (it is ESM only). For each item,
 * returns whether `verify(secret, payload, signature)` accepted it and what `sign` gives.
 */
export function octokitVerify(items: readonly OctokitCheck[]): Array<{ verified: boolean; signature: string }> {
  const script = `
    import { sign, verify } from '@octokit/webhooks-methods';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const out = [];
    for (const item of JSON.parse(input)) {
      out.push({ verified: await verify(item.secret, item.payload, item.signature), signature: await sign(item.secret, item.payload) });
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: __dirname,
    input: JSON.stringify(items.map((i) => ({ ...i, secret: i.secret ?? WEBHOOK_SECRET }))),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`@octokit/webhooks-methods child failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Array<{ verified: boolean; signature: string }>;
}
