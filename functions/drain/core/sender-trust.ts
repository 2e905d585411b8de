/**
 * What the webhook secret has recently verified, and so what a signature failure means. Pure
 * (the clock is passed in).
 *
 * A failing delivery is a forgery (dead-lettered at once, never sent, never counted toward
 * closing the spigot) when either:
 * - its repository never verified while others verify fine (a forged repository, or a hook with
 *   another secret); or
 * - a delivery *sent after it* verified with the same secrets: at that moment the senders signed
 *   with a secret the drain holds, so a genuine delivery from before could only fail if the old
 *   secret was dropped from the parameter during a rotation (README "Rotating the webhook
 *   secret" keeps it on a second line). This catches forgeries that name a real repository, as
 *   soon as a later genuine delivery of any repository verifies, including the forged delivery's
 *   own repository when SQS hands out several of its messages at once.
 * Anything else may be a rotated secret: it is held and judged (every delivery failing closes the
 * spigot with "check the webhook secret"). With no history at all (a new drain), every failure is
 * held and judged, so a wrong secret on first deploy closes the spigot instead of dead-lettering
 * everything.
 */
export type SignatureFailure = 'forged: repository never verified' | 'forged: a later delivery verified' | 'may be a rotated secret';

/** Which secrets a check used: evidence from other secrets (before the parameter changed) says nothing. */
export interface SignatureCheck {
  readonly sentAt: number;
  readonly secretsFingerprint: string;
}

export class SenderTrust {
  private readonly verifiedAt = new Map<string, number>();
  /** The most recently sent delivery that verified, and with which secrets. */
  private newestVerified?: { readonly sentAt: number; readonly secretsFingerprint: string; readonly at: number };

  constructor(
    /** How long a verification vouches for a repository. @default 24 hours */
    private readonly rememberMs = 24 * 60 * 60 * 1000,
    /** Most repositories remembered; the oldest are forgotten first. @default 10000 */
    private readonly maxRepositories = 10_000,
  ) {}

  /** A delivery of `repository` passed the signature check. */
  verified(repository: string, now: number, check?: SignatureCheck): void {
    this.verifiedAt.delete(repository);
    this.verifiedAt.set(repository, now);
    if (this.verifiedAt.size > this.maxRepositories) {
      const oldest = this.verifiedAt.keys().next().value;
      if (oldest !== undefined) this.verifiedAt.delete(oldest);
    }
    if (!check) return;
    const newest = this.newestVerified;
    if (!newest || newest.secretsFingerprint !== check.secretsFingerprint || check.sentAt > newest.sentAt) {
      this.newestVerified = { ...check, at: now };
    }
  }

  /** What a signature failure from `repository` means. */
  judgeFailure(repository: string, now: number, check?: SignatureCheck): SignatureFailure {
    this.forgetBefore(now - this.rememberMs);
    if (this.verifiedAt.size === 0) return 'may be a rotated secret';
    if (!this.verifiedAt.has(repository)) return 'forged: repository never verified';
    const newest = this.newestVerified;
    if (check && newest && newest.secretsFingerprint === check.secretsFingerprint && check.sentAt < newest.sentAt) {
      return 'forged: a later delivery verified';
    }
    return 'may be a rotated secret';
  }

  private forgetBefore(cutoff: number): void {
    // Map order is insertion order, and `verified` re-inserts: the oldest come first.
    for (const [repository, at] of this.verifiedAt) {
      if (at >= cutoff) break;
      this.verifiedAt.delete(repository);
    }
    if (this.newestVerified && this.newestVerified.at < cutoff) this.newestVerified = undefined;
  }
}
