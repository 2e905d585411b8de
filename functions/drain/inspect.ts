import type { HeldWebhook } from './adapters/buffer-queue';
import type { SenderTrust, SignatureFailure } from './core/sender-trust';
import type { Disposition, WebhookIds } from './release';
import { decodeEnvelope, headerValue, type WebhookEnvelope } from '../shared/envelope';
import { errorMessage } from '../shared/error-message';
import { verifiesWithAny, type WebhookSecrets } from '../shared/webhook-secrets';
import { DELIVERY_ID_HEADERS, SMOKE_HEADER } from '../shared/webhook-headers';

const SIGNATURE_MISMATCH = 'signature mismatch: X-Hub-Signature-256 does not match the webhook secret';

/** What a held webhook is before Jenkins sees it: decodable, a smoke ping, signed right. */
type Inspected = Exclude<Disposition, { kind: 'send' }> | { readonly kind: 'send'; readonly envelope: WebhookEnvelope };

/** Decodes each message once per run: for inspection, the replay, and the ids log lines carry. */
export class Envelopes {
  private readonly decoded = new WeakMap<HeldWebhook, WebhookEnvelope | Error>();

  /** Throws the envelope's error (the same one every time). */
  of(message: HeldWebhook): WebhookEnvelope {
    let entry = this.decoded.get(message);
    if (entry === undefined) {
      try {
        entry = decodeEnvelope(message.body);
      } catch (error) {
        entry = error instanceof Error ? error : new Error(String(error));
      }
      this.decoded.set(message, entry);
    }
    if (entry instanceof Error) throw entry;
    return entry;
  }

  /** The sender's delivery id and API Gateway's request id; none for an envelope that does not decode. */
  ids(message: HeldWebhook): WebhookIds {
    try {
      const envelope = this.of(message);
      const deliveryId = DELIVERY_ID_HEADERS.map((name) => headerValue(envelope, name)).find((value) => value !== undefined && value !== '');
      return { deliveryId, requestId: envelope.requestId };
    } catch {
      return {};
    }
  }
}

/** What the signature check says about one message; checked once per message and remembered. */
export type SignatureResult = 'not checked' | 'verified' | 'failed';

/** Checks signatures once per message, and tells SenderTrust what verified. */
export class SignatureChecks {
  private readonly results = new WeakMap<HeldWebhook, SignatureResult>();

  constructor(
    private readonly envelopes: Envelopes,
    private readonly secrets: WebhookSecrets | undefined,
    private readonly senders: SenderTrust | undefined,
  ) {}

  /**
   * Every message of a batch as it arrives: a later genuine delivery that verifies is the evidence
   * that an earlier failing one of its repository is forged (core/sender-trust.ts).
   */
  observe(messages: readonly HeldWebhook[], now: number): void {
    if (!this.secrets) return; // nothing to check: no per-message work on the receive path
    for (const message of messages) this.of(message, now);
  }

  of(message: HeldWebhook, now: number): SignatureResult {
    let result = this.results.get(message);
    if (result !== undefined) return result;
    result = this.check(message);
    this.results.set(message, result);
    if (result === 'verified' && this.secrets) {
      this.senders?.verified(message.groupId, now, { sentAt: message.sentAt, secretsFingerprint: this.secrets.fingerprint });
    }
    return result;
  }

  /** What a failure means (only for a message whose check failed). */
  judgeFailure(message: HeldWebhook, now: number): SignatureFailure {
    if (!this.senders || !this.secrets) return 'may be a rotated secret';
    return this.senders.judgeFailure(message.groupId, now, { sentAt: message.sentAt, secretsFingerprint: this.secrets.fingerprint });
  }

  private check(message: HeldWebhook): SignatureResult {
    if (!this.secrets) return 'not checked';
    let envelope: WebhookEnvelope;
    try {
      envelope = this.envelopes.of(message);
    } catch {
      return 'not checked'; // inspect dead-letters it for the envelope's own error
    }
    const signature = headerValue(envelope, 'X-Hub-Signature-256');
    if (signature === undefined) return 'not checked';
    return verifiesWithAny(this.secrets, envelope.body, signature) ? 'verified' : 'failed';
  }
}

const FORGED_BECAUSE: Record<Exclude<SignatureFailure, 'may be a rotated secret'>, string> = {
  'forged: repository never verified': "this repository's deliveries have not verified recently (forged, or its hook has another secret)",
  'forged: a later delivery verified': 'a delivery sent after it verified with the same secret (forged, or signed with a secret dropped from the parameter during a rotation)',
};

export function inspect(message: HeldWebhook, envelopes: Envelopes, signatures: SignatureChecks, now: number): Inspected {
  let envelope: WebhookEnvelope;
  try {
    envelope = envelopes.of(message);
  } catch (error) {
    return { kind: 'dead-letter', reason: errorMessage(error) };
  }
  // Only a ping can be a smoke test: a sender adding the header to a real event gets it delivered.
  if (headerValue(envelope, SMOKE_HEADER) !== undefined && headerValue(envelope, 'X-GitHub-Event') === 'ping') {
    return { kind: 'discard', reason: 'smoke test delivery' };
  }
  if (signatures.of(message, now) !== 'failed') return { kind: 'send', envelope };
  const meaning = signatures.judgeFailure(message, now);
  if (meaning !== 'may be a rotated secret') {
    // Never sent, never counted toward closing the spigot.
    return { kind: 'dead-letter', reason: `${SIGNATURE_MISMATCH}; ${FORGED_BECAUSE[meaning]}`, signatureMismatch: true };
  }
  // Judged like a Jenkins refusal: one alone is poison, every delivery failing means a rotated secret.
  return { kind: 'refuse', refusal: 'signature', reason: `${SIGNATURE_MISMATCH} (forged, or the secret changed)` };
}
