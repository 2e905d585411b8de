import { SenderTrust } from '../../../functions/drain/core/sender-trust';

const HOUR = 3600 * 1000;
const ROTATION = 'may be a rotated secret';
const secrets = (sentAt: number, secretsFingerprint = 'current') => ({ sentAt, secretsFingerprint });

describe('SenderTrust', () => {
  it('when nothing has verified yet, every signature failure may be a rotated secret', () => {
    const trust = new SenderTrust();
    expect(trust.judgeFailure('repo:a', 0, secrets(0))).toBe(ROTATION);
  });

  it('when other repositories verify, a failure from a repository never verified is a forgery, and one from a verified repository may be a rotation', () => {
    const trust = new SenderTrust();
    trust.verified('repo:a', 1000, secrets(500));
    expect(trust.judgeFailure('repo:a', 2000, secrets(900))).toBe(ROTATION);
    expect(trust.judgeFailure('repo:mallory', 2000, secrets(900))).toBe('forged: repository never verified');
  });

  it('when a delivery sent later verified with the same secrets, an earlier failing one of a verified repository is forged; one sent after it may be a rotation', () => {
    const trust = new SenderTrust();
    trust.verified('repo:a', 1000, secrets(700));
    expect(trust.judgeFailure('repo:a', 1000, secrets(699))).toBe('forged: a later delivery verified');
    expect(trust.judgeFailure('repo:a', 1000, secrets(700))).toBe(ROTATION);
    expect(trust.judgeFailure('repo:a', 1000, secrets(701))).toBe(ROTATION);
  });

  it('when the evidence comes from another repository, it still proves the senders signed with a secret the drain holds', () => {
    const trust = new SenderTrust();
    trust.verified('repo:a', 1000, secrets(100));
    trust.verified('repo:b', 1000, secrets(900));
    expect(trust.judgeFailure('repo:a', 1000, secrets(500))).toBe('forged: a later delivery verified');
  });

  it('when the later delivery verified with other secrets (the parameter changed since), the failure may be a rotation', () => {
    const trust = new SenderTrust();
    trust.verified('repo:a', 1000, secrets(900, 'before'));
    expect(trust.judgeFailure('repo:a', 1000, secrets(500, 'after'))).toBe(ROTATION);
  });

  it('when the secrets change, the newest evidence is the new secrets\' even if sent earlier', () => {
    const trust = new SenderTrust();
    trust.verified('repo:a', 1000, secrets(900, 'before'));
    trust.verified('repo:a', 1100, secrets(300, 'after'));
    expect(trust.judgeFailure('repo:a', 1200, secrets(200, 'after'))).toBe('forged: a later delivery verified');
    expect(trust.judgeFailure('repo:a', 1200, secrets(500, 'after'))).toBe(ROTATION);
  });

  it('when a verification is older than the memory, it no longer proves anything', () => {
    const trust = new SenderTrust(24 * HOUR);
    trust.verified('repo:a', 0, secrets(50));
    trust.verified('repo:b', 20 * HOUR, secrets(10));
    expect(trust.judgeFailure('repo:b', 25 * HOUR, secrets(20))).toBe(ROTATION);
  });

  it('when a repository last verified longer ago than the memory, it is forgotten, and with nothing left every failure is held again', () => {
    const trust = new SenderTrust(24 * HOUR);
    trust.verified('repo:a', 0);
    trust.verified('repo:b', 20 * HOUR);
    expect(trust.judgeFailure('repo:a', 25 * HOUR)).toBe('forged: repository never verified');
    expect(trust.judgeFailure('repo:b', 25 * HOUR)).toBe(ROTATION);
    expect(trust.judgeFailure('repo:x', 50 * HOUR)).toBe(ROTATION);
  });

  it('when more repositories verify than it keeps, the least recently verified are forgotten first', () => {
    const trust = new SenderTrust(24 * HOUR, 3);
    for (const [i, repo] of ['a', 'b', 'c'].entries()) trust.verified(repo, i);
    trust.verified('a', 10); // a is fresh again
    trust.verified('d', 11); // b goes
    expect(['a', 'b', 'c', 'd'].map((r) => trust.judgeFailure(r, 12) === ROTATION)).toEqual([true, false, true, true]);
  });
});
