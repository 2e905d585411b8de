import type { HeldWebhook } from './adapters/buffer-queue';
import type { SenderTrust } from './core/sender-trust';
import type { DrainSecrets } from './drain-types';
import type { Disposition } from './release';
import { decodeEnvelope, headerValue, type WebhookEnvelope } from '../shared/envelope';
import { errorMessage } from '../shared/error-message';
import { verifyGitHubSignature } from '../shared/github-signature';
import { SMOKE_HEADER } from '../shared/webhook-headers';

const SIGNATURE_MISMATCH = 'signature mismatch: X-Hub-Signature-256 does not match the webhook secret';

/** What a held webhook is before Jenkins sees it: decodable, a smoke ping, signed right. */
type Inspected = Exclude<Disposition, { kind: 'send' }> | { readonly kind: 'send'; readonly envelope: WebhookEnvelope };

export function inspect(message: HeldWebhook, secrets: DrainSecrets, senders: SenderTrust | undefined, now: number): Inspected {
  let envelope: WebhookEnvelope;
  try {
    envelope = decodeEnvelope(message.body);
  } catch (error) {
    return { kind: 'dead-letter', reason: errorMessage(error) };
  }
  // Only a ping can be a smoke test: a sender adding the header to a real event gets it delivered.
  if (headerValue(envelope, SMOKE_HEADER) !== undefined && headerValue(envelope, 'X-GitHub-Event') === 'ping') {
    return { kind: 'discard', reason: 'smoke test delivery' };
  }
  const signature = headerValue(envelope, 'X-Hub-Signature-256');
  if (!secrets.webhookSecret || signature === undefined) return { kind: 'send', envelope };
  if (verifyGitHubSignature(secrets.webhookSecret, envelope.body, signature)) {
    senders?.verified(message.groupId, now);
    return { kind: 'send', envelope };
  }
  if (senders && !senders.mayBeRotation(message.groupId, now)) {
    // The secret verifies other repositories but never verified this one: a forgery (or a hook
    // with another secret). Never sent, never counted toward closing the spigot.
    return { kind: 'dead-letter', reason: `${SIGNATURE_MISMATCH}; this repository's deliveries have not verified recently (forged, or its hook has another secret)`, signatureMismatch: true };
  }
  // Judged like a Jenkins refusal: one alone is poison, every delivery failing means a rotated secret.
  return { kind: 'refuse', refusal: 'signature', reason: `${SIGNATURE_MISMATCH} (forged, or the secret changed)` };
}
