/**
 * Which repositories the webhook secret has recently verified. Pure (the clock is passed in).
 *
 * A signature failure from a repository the secret verified not long ago looks like a rotated
 * secret, and is held and judged; one from a repository never verified while others verify
 * fine is a forgery (or a hook with another secret): it is dead-lettered at once and can never
 * move the spigot. With no history at all (a new drain), every failure is held and judged, so a
 * wrong secret on first deploy closes the spigot instead of dead-lettering everything.
 */
export class SenderTrust {
  private readonly verifiedAt = new Map<string, number>();

  constructor(
    /** How long a verification vouches for a repository. @default 24 hours */
    private readonly rememberMs = 24 * 60 * 60 * 1000,
    /** Most repositories remembered; the oldest are forgotten first. @default 10000 */
    private readonly maxRepositories = 10_000,
  ) {}

  /** A delivery of `repository` passed the signature check. */
  verified(repository: string, now: number): void {
    this.verifiedAt.delete(repository);
    this.verifiedAt.set(repository, now);
    if (this.verifiedAt.size > this.maxRepositories) {
      const oldest = this.verifiedAt.keys().next().value;
      if (oldest !== undefined) this.verifiedAt.delete(oldest);
    }
  }

  /** Whether a signature failure from `repository` may mean a rotated secret (hold it) rather than a forgery. */
  mayBeRotation(repository: string, now: number): boolean {
    this.forgetBefore(now - this.rememberMs);
    if (this.verifiedAt.size === 0) return true;
    return this.verifiedAt.has(repository);
  }

  private forgetBefore(cutoff: number): void {
    // Map order is insertion order, and `verified` re-inserts: the oldest come first.
    for (const [repository, at] of this.verifiedAt) {
      if (at >= cutoff) break;
      this.verifiedAt.delete(repository);
    }
  }
}
