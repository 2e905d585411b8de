import { createHash } from 'node:crypto';
import { verifyGitHubSignature } from './github-signature';

/**
 * The webhook secret parameter's value: one secret per line. During a rotation it holds the new
 * secret and the old one, so deliveries signed with either verify (README "Rotating the webhook
 * secret"). Empty lines and a trailing newline are ignored; a `\r` before a newline is not part of
 * a secret.
 */
export interface WebhookSecrets {
  readonly values: readonly string[];
  /** Tells one set of secrets from another without holding them; never logged. */
  readonly fingerprint: string;
}

export function parseWebhookSecrets(parameterValue: string): WebhookSecrets {
  const values = parameterValue.split(/\r?\n/).filter((line) => line !== '');
  if (values.length === 0) {
    throw new Error('the webhook secret parameter is empty: put the secret the hooks sign with in it (during a rotation, the new one and the old one on two lines)');
  }
  const fingerprint = createHash('sha256').update(values.join('\n')).digest('hex').slice(0, 16);
  return { values, fingerprint };
}

/** Whether `header` is the X-Hub-Signature-256 of `body` under any of the secrets. */
export function verifiesWithAny(secrets: WebhookSecrets, body: Buffer, header: string): boolean {
  return secrets.values.some((secret) => verifyGitHubSignature(secret, body, header));
}
