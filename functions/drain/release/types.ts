import type { BufferQueueClient, HeldWebhook } from '../adapters/buffer-queue';
import type { HoldPolicy } from '../core/hold';
import type { Outcome } from '../core/outcome';
import type { RateLimiter } from '../core/rate-limiter';
import type { RefusalKind, RefusalPolicy } from '../core/refusal-judge';
import type { TimeBudget } from '../core/time-budget';

/** What to do with one held webhook, decided before trying Jenkins. */
export type Disposition =
  | { readonly kind: 'send' }
  | { readonly kind: 'discard'; readonly reason: string }
  | { readonly kind: 'dead-letter'; readonly status?: number; readonly reason: string; readonly signatureMismatch?: boolean }
  /** Refused without asking Jenkins (the drain's own signature check): judged like a Jenkins refusal. */
  | { readonly kind: 'refuse'; readonly refusal: RefusalKind; readonly reason: string };

export interface ReleaseLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ReleaseDeps {
  readonly queue: BufferQueueClient;
  /** Sees every received batch before any of it is inspected (signature evidence, inspect.ts). */
  readonly received?: (messages: readonly HeldWebhook[]) => void;
  /** Checks a webhook before sending (envelope decodes, signature, smoke test). */
  readonly inspect: (message: HeldWebhook) => Disposition;
  /** One attempt to hand the webhook to Jenkins. */
  readonly attempt: (message: HeldWebhook) => Promise<Outcome>;
  /** The ids a person traces a webhook by (delivery id, API request id); never the body. */
  readonly identify?: (message: HeldWebhook) => WebhookIds;
  readonly budget: TimeBudget;
  /** The spigot's current state, re-read at most every few seconds. */
  readonly spigotOpen: () => Promise<boolean>;
  readonly log: ReleaseLog;
  readonly rateLimiter?: RateLimiter;
  /** Outlives the run (the entry point keeps it): when Jenkins last accepted a webhook. */
  readonly memory?: DrainMemory;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface DrainMemory {
  lastAcceptedAt?: number;
}

export interface ReleaseOptions {
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly autoCloseAfterFailures: number;
  readonly hold: HoldPolicy;
  readonly refusals: RefusalPolicy;
  readonly idleWaitSeconds: number;
}

export interface ReleaseStats {
  released: number;
  held: number;
  retried: number;
  deadLettered: number;
  discarded: number;
  /** Webhooks refused (by Jenkins or the signature check), whatever the verdict. */
  refused: number;
  /** Deliveries whose signature failed the drain's check (forged, or a rotated secret). */
  signatureMismatches: number;
  redelivered: number;
  deleteFailures: number;
  receiveCalls: number;
  oldestAgeMs: number;
  /** Set when a run of failures or refusals means the spigot must close. */
  autoCloseReason?: string;
  /** True when the close is for refusals (Jenkins up but refusing webhooks). */
  systemicRefusal?: boolean;
  /** Why receiving stopped. */
  stoppedBecause: 'budget' | 'closed' | 'auto-close';
}

/** One repository's messages in hand, sent from `start`; `poisonHead` is a confirmed refusal. */
export interface GroupBatch {
  readonly groupId: string;
  readonly messages: HeldWebhook[];
  readonly start: number;
  readonly poisonHead?: { readonly status?: number; readonly reason: string };
}

export interface WebhookIds {
  readonly deliveryId?: string;
  readonly requestId?: string;
}

/** How sending one webhook ended. */
export type Delivery =
  | { readonly kind: 'delivered'; readonly status?: number }
  | { readonly kind: 'refused'; readonly refusal: RefusalKind; readonly status?: number; readonly reason: string }
  /** Hide the repository for at least its hold floor (Jenkins busy or failing). */
  | { readonly kind: 'hold'; readonly retryAfterMs?: number; readonly why: string }
  /** Give the repository back at once: the run is stopping. */
  | { readonly kind: 'hand-back'; readonly why: string };
