import { SenderTrust } from '../../../functions/drain/core/sender-trust';

const HOUR = 3600 * 1000;

describe('SenderTrust', () => {
  it('when nothing has verified yet, every signature failure may be a rotated secret', () => {
    const trust = new SenderTrust();
    expect(trust.mayBeRotation('repo:a', 0)).toBe(true);
  });

  it('when other repositories verify, a failure from a repository never verified is a forgery, and one from a verified repository may be a rotation', () => {
    const trust = new SenderTrust();
    trust.verified('repo:a', 1000);
    expect(trust.mayBeRotation('repo:a', 2000)).toBe(true);
    expect(trust.mayBeRotation('repo:mallory', 2000)).toBe(false);
  });

  it('when a repository last verified longer ago than the memory, it is forgotten, and with nothing left every failure is held again', () => {
    const trust = new SenderTrust(24 * HOUR);
    trust.verified('repo:a', 0);
    trust.verified('repo:b', 20 * HOUR);
    expect(trust.mayBeRotation('repo:a', 25 * HOUR)).toBe(false);
    expect(trust.mayBeRotation('repo:b', 25 * HOUR)).toBe(true);
    expect(trust.mayBeRotation('repo:x', 50 * HOUR)).toBe(true);
  });

  it('when more repositories verify than it keeps, the least recently verified are forgotten first', () => {
    const trust = new SenderTrust(24 * HOUR, 3);
    for (const [i, repo] of ['a', 'b', 'c'].entries()) trust.verified(repo, i);
    trust.verified('a', 10); // a is fresh again
    trust.verified('d', 11); // b goes
    expect(['a', 'b', 'c', 'd'].map((r) => trust.mayBeRotation(r, 12))).toEqual([true, false, true, true]);
  });
});
