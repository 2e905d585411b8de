/**
 * Who may call the webhook API: `allowedSources` (or its older spelling `allowedSourceCidrs`),
 * resolved into one policy. Pure: config.ts validates the entries with these helpers, the
 * WebhookApi renders the result, and the drain is told what a refusal means under it.
 */
import { isIP } from 'node:net';

/**
 * GitHub.com's webhook source ranges: the `hooks` list of https://api.github.com/meta.
 * Checked on 2026-12-01 against GitHub's changelog of 2026-10-29 ("Webhook IP ranges added to the
 * Meta API", which added the three 9.234.x ranges) and a daily mirror of the meta API; this machine
 * cannot reach api.github.com itself. GitHub changes these from time to time: refresh with
 * `curl -s https://api.github.com/meta | jq .hooks`, update this list and the date in
 * GITHUB_HOOK_RANGES_CHECKED and the README ("Who may send webhooks"), then apply.
 */
export const GITHUB_HOOK_RANGES: readonly string[] = [
  '192.30.252.0/22',
  '185.199.108.0/22',
  '140.82.112.0/20',
  '143.55.64.0/20',
  '2a0a:a440::/29',
  '2606:50c0::/32',
  '9.234.98.160/28',
  '9.234.98.176/28',
  '9.234.106.48/28',
];
export const GITHUB_HOOK_RANGES_CHECKED = '2026-12-01';

/** Named lists an `allowedSources` entry may stand for. */
export const SOURCE_PRESETS: Readonly<Record<string, readonly string[]>> = { github: GITHUB_HOOK_RANGES };

/** Own keys only: "toString" is not a preset. */
const isPreset = (entry: unknown): entry is string => typeof entry === 'string' && Object.hasOwn(SOURCE_PRESETS, entry);

/** The one entry that opens the API to every source; it must stand alone. */
export const ANYONE = 'anyone';

export type SourcePolicy =
  /** Nothing chosen (the embedded default): synth works, plan and apply refuse. */
  | { readonly kind: 'unchosen' }
  | { readonly kind: 'anyone' }
  /** Only these CIDR blocks (presets expanded, duplicates dropped) may invoke the API. */
  | {
      readonly kind: 'restricted';
      readonly cidrs: readonly string[];
      /** A shared service's ranges (the "github" preset): any account there can point a hook at the API. */
      readonly sharedSenders: boolean;
    };

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$|^[0-9a-fA-F:]+\/\d{1,3}$/;

export function isCidr(value: unknown): boolean {
  if (typeof value !== 'string' || !CIDR.test(value)) return false;
  const [address, prefix] = value.split('/');
  const family = isIP(address);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The three choices, as every message that asks for one names them. */
export const SOURCE_CHOICES = '["github"] (GitHub.com\'s published webhook ranges), a list of CIDR blocks such as ["203.0.113.0/24"] (GitHub Enterprise Server, GitLab, Gitea, Bitbucket: your sender\'s addresses, optionally with "github"), or ["anyone"] (every source; README "Who may send webhooks")';

/** Why an `allowedSources` entry is not one, with the fix; undefined when it is fine. */
export function sourceEntryProblem(entry: unknown, entries: readonly unknown[]): string | undefined {
  if (entry === ANYONE) {
    return entries.length === 1 ? undefined : `"anyone" lets every source in, so it must be the only entry: use ["anyone"], or remove it to allow only the other entries`;
  }
  if (isPreset(entry)) return undefined;
  if (isCidr(entry)) return undefined;
  if (typeof entry === 'string' && isIP(entry) !== 0) {
    return `${JSON.stringify(entry)} is an address without a prefix length: write "${entry}/${isIP(entry) === 4 ? 32 : 128}" for that one address`;
  }
  if (typeof entry === 'string' && isPreset(entry.toLowerCase())) return `presets are lower-case: write ${JSON.stringify(entry.toLowerCase())}`;
  return `must be a CIDR block such as "192.30.252.0/22", the preset "github", or (alone) "anyone", got ${JSON.stringify(entry)}`;
}

/** API Gateway caps a resource policy at 8 KB; this leaves room for the statement around the list. */
const MAX_POLICY_CIDR_CHARS = 7500;

/** Why an expanded CIDR list cannot be one resource policy; undefined when it fits. */
export function cidrListProblem(cidrs: readonly string[]): string | undefined {
  const size = JSON.stringify(cidrs).length;
  return size > MAX_POLICY_CIDR_CHARS
    ? `${cidrs.length} CIDR blocks would exceed API Gateway's 8 KB resource policy limit: merge adjacent blocks into larger ones`
    : undefined;
}

export interface SourceSettings {
  readonly allowedSources?: readonly string[];
  readonly allowedSourceCidrs: readonly string[];
}

/** The policy a validated configuration chose; `allowedSourceCidrs` counts only when non-empty. */
export function resolveSourcePolicy(config: SourceSettings): SourcePolicy {
  const entries = config.allowedSources && config.allowedSources.length > 0 ? config.allowedSources : config.allowedSourceCidrs;
  if (entries.length === 0) return { kind: 'unchosen' };
  if (entries.length === 1 && entries[0] === ANYONE) return { kind: 'anyone' };
  return { kind: 'restricted', cidrs: expand(entries), sharedSenders: entries.some(isPreset) };
}

const expand = (entries: readonly string[]): string[] => [...new Set(entries.flatMap((entry) => (isPreset(entry) ? SOURCE_PRESETS[entry] : [entry])))];

/**
 * Refusals that must not count toward a systemic close, because any outsider produces them at will
 * (README "Who may send webhooks"):
 * - `400`, with the drain not verifying signatures and the API open to anyone or to a shared
 *   service's ranges (anyone with a GitHub account can point a hook at it from GitHub's addresses):
 *   it is what a forged delivery gets from Jenkins;
 * - `signature` (the drain's own check failing), with the API open to anyone: a forgery can name any
 *   repository. From GitHub's ranges it cannot (GitHub writes the repository into the payload), and
 *   the operator's own CIDRs (GitHub Enterprise, self-hosted GitLab) are trusted.
 */
export function untrustedRefusalStatuses(policy: SourcePolicy, drain: { readonly webhookSecretParameterName?: string }): string[] {
  const outsidersCanSend = policy.kind === 'anyone' || (policy.kind === 'restricted' && policy.sharedSenders);
  if (!drain.webhookSecretParameterName) return outsidersCanSend ? ['400'] : [];
  return policy.kind === 'anyone' ? ['signature'] : [];
}
