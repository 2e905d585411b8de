import type { BufferQueueClient } from './adapters/buffer-queue';
import type { JenkinsClient } from './adapters/jenkins-client';
import type { SpigotSwitch } from './adapters/spigot-switch';
import type { SenderTrust } from './core/sender-trust';
import type { DrainMemory, ReleaseLog, ReleaseStats } from './release';
import type { DrainSettings } from './settings';
import type { WebhookSecrets } from '../shared/webhook-secrets';

export type DrainTrigger = 'schedule' | 'spigot-changed' | 'manual';

export interface DrainSecrets {
  /** `user:apiToken` for Jenkins, enabling the quiet-down check. */
  readonly jenkinsCredentials?: string;
  /** What X-Hub-Signature-256 is checked against (one secret, or two during a rotation). */
  readonly webhookSecrets?: WebhookSecrets;
}

export interface DrainDeps {
  readonly settings: DrainSettings;
  readonly queue: BufferQueueClient;
  readonly spigot: SpigotSwitch;
  readonly jenkins: JenkinsClient;
  readonly secrets: () => Promise<DrainSecrets>;
  /** Repositories the webhook secret verified recently; kept across runs by the entry point. */
  readonly senders?: SenderTrust;
  /** When Jenkins last accepted a webhook; kept across runs by the entry point. */
  readonly memory?: DrainMemory;
  /** A long-running entry point shutting down: the run stops as if the spigot closed. */
  readonly stopRequested?: () => boolean;
  readonly log: ReleaseLog;
  readonly remainingMs: () => number;
  readonly now?: () => number;
}

export interface DrainResult {
  readonly spigot: 'open' | 'closed';
  readonly action: 'held (spigot closed)' | 'auto-closed' | 'reopened' | 'released';
  readonly reason?: string;
  readonly probeFailed?: boolean;
  readonly stats?: ReleaseStats;
  readonly durationMs: number;
}
