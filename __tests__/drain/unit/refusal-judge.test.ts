import { RefusalJudge, defaultRefusalStatuses, parseRefusalStatuses, systemicReason } from '../../../functions/drain/core/refusal-judge';

const judge = (afterWebhooks = 5, fromRepositories = 2, statuses = defaultRefusalStatuses()) => new RefusalJudge({ afterWebhooks, fromRepositories, statuses });

describe('RefusalJudge', () => {
  it('when refusals of one status come from several repositories with no success between, the Nth is systemic and says what to check', () => {
    const j = judge(5, 2);
    const verdicts = ['a', 'b', 'c', 'a2', 'b2'].map((repo) => j.refused(repo, 404));
    expect(verdicts.slice(0, 4).every((v) => v.kind === 'park')).toBe(true);
    expect(verdicts[4]).toEqual({ kind: 'systemic', reason: expect.stringContaining('Jenkins answered 404 to 5 webhooks from 5 repositories in a row') });
    expect(verdicts[4].kind === 'systemic' && verdicts[4].reason).toContain('GitHub plugin');
  });

  it('when a success comes between refusals, the run starts again', () => {
    const j = judge(3, 2);
    j.refused('a', 403);
    j.refused('b', 403);
    j.succeeded();
    expect(j.refused('c', 403).kind).toBe('park');
    expect(j.refused('d', 403).kind).toBe('park');
    expect(j.refused('e', 403).kind).toBe('systemic');
  });

  it('when every refusal comes from one repository, it is never systemic', () => {
    const j = judge(3, 2);
    for (let i = 0; i < 10; i += 1) expect(j.refused('only', 404).kind).toBe('park');
    expect(j.atRunEnd(false).kind).toBe('park');
  });

  it('when refusals of different statuses interleave, each status keeps its own run', () => {
    const j = judge(3, 2);
    expect(['a', 'b'].map((r) => j.refused(r, 404).kind)).toEqual(['park', 'park']);
    expect(j.refused('c', 400).kind).toBe('park');
    expect(j.refused('d', 404).kind).toBe('systemic');
  });

  it('when the drain\'s own signature check fails across repositories, only the end of a run that accepted nothing closes, and the reason names the webhook secret', () => {
    const j = judge(2, 2);
    for (let i = 0; i < 50; i += 1) expect(j.refused(`repo-${i}`, 'signature').kind).toBe('park');
    const verdict = j.atRunEnd(false);
    expect(verdict.kind).toBe('systemic');
    expect(verdict.kind === 'systemic' && verdict.reason).toMatch(/check the webhook secret/);
  });

  it('when forged deliveries (signature failures) come around webhooks Jenkins accepts, the run never closes', () => {
    const j = judge(5, 2);
    for (let i = 0; i < 100; i += 1) {
      expect(j.refused(`forged-${i}`, 'signature').kind).toBe('park');
      if (i % 20 === 19) j.succeeded();
    }
    expect(j.atRunEnd(false).kind).toBe('park');
  });

  it('when fewer signature failures than the threshold end a run that accepted nothing, it does not close', () => {
    const j = judge(5, 2);
    j.refused('a', 'signature');
    j.refused('b', 'signature');
    expect(j.atRunEnd(false).kind).toBe('park');
  });

  it('when a status is not one the policy judges, it is poison at once and does not count', () => {
    const j = judge(2, 2, new Set([404]));
    expect(j.refused('a', 422).kind).toBe('poison');
    expect(j.refused('b', 422).kind).toBe('poison');
    expect(j.atRunEnd(false).kind).toBe('park');
  });

  it('when the run ends with refusals from several repositories and no success, it is systemic even below the threshold', () => {
    const j = judge(5, 2);
    j.refused('a', 404);
    j.refused('b', 404);
    expect(j.atRunEnd(false)).toEqual({ kind: 'systemic', reason: expect.stringContaining('2 webhooks from 2 repositories') });
  });

  it('when the run ends after a success, nothing is systemic, even with refusals parked after it', () => {
    const j = judge(5, 2);
    j.refused('a', 404);
    j.succeeded();
    j.refused('b', 404);
    j.refused('c', 404);
    expect(j.atRunEnd(false).kind).toBe('park');
  });
});

describe('RefusalJudge at the end of a run', () => {
  it('when Jenkins accepted webhooks earlier in the run and the refusals left come from one repository, they stand alone: poison', () => {
    const j = judge(5, 2);
    j.succeeded();
    j.refused('quiet-repo', 404);
    expect(j.atRunEnd(false).kind).toBe('poison');
  });

  it('when nothing was accepted this run, a lone repository\'s refusal is poison only if Jenkins accepted a webhook recently', () => {
    const recent = judge(5, 2);
    recent.refused('only-repo', 404);
    expect(recent.atRunEnd(true).kind).toBe('poison');
    const afterUpgrade = judge(5, 2);
    afterUpgrade.refused('only-repo', 404);
    expect(afterUpgrade.atRunEnd(false).kind).toBe('park');
  });

  it('when refusals left after the last acceptance come from several repositories, the next run decides', () => {
    const j = judge(5, 2);
    j.succeeded();
    j.refused('a', 404);
    j.refused('b', 404);
    expect(j.atRunEnd(true).kind).toBe('park');
  });
});

describe('RefusalJudge with untrusted statuses', () => {
  const untrusted = () => new RefusalJudge({ afterWebhooks: 2, fromRepositories: 2, statuses: defaultRefusalStatuses(), untrusted: new Set([400]) });

  it('when an untrusted status (a 400 anyone can provoke) comes from many repositories, it parks but never closes the spigot', () => {
    const j = untrusted();
    for (let i = 0; i < 20; i += 1) expect(j.refused(`repo-${i}`, 400).kind).toBe('park');
    expect(j.atRunEnd(false).kind).toBe('park');
  });

  it('when other statuses come alongside, they still close as usual', () => {
    const j = untrusted();
    j.refused('a', 400);
    j.refused('b', 404);
    expect(j.refused('c', 404).kind).toBe('systemic');
  });
});

describe('RefusalJudge with untrusted signatures', () => {
  const judge = () => new RefusalJudge({ afterWebhooks: 2, fromRepositories: 2, statuses: defaultRefusalStatuses(), untrustedSignatures: true });

  it('when anyone may send, signature failures from many repositories with nothing accepted never close the spigot; they stay held', () => {
    const j = judge();
    for (let i = 0; i < 20; i += 1) expect(j.refused(`repo-${i}`, 'signature').kind).toBe('park');
    expect(j.atRunEnd(true).kind).toBe('park');
    expect(j.atRunEnd(false).kind).toBe('park');
  });

  it('when Jenkins accepts a webhook after them, a lone signature failure is still poison', () => {
    const j = judge();
    j.refused('a', 'signature');
    j.succeeded();
    expect(j.atRunEnd(false).kind).toBe('park'); // nothing parked since the success
    j.refused('b', 'signature');
    expect(j.atRunEnd(false).kind).toBe('poison');
  });

  it('when Jenkins statuses come alongside, they still close as usual', () => {
    const j = judge();
    j.refused('a', 'signature');
    j.refused('b', 404);
    expect(j.refused('c', 404).kind).toBe('systemic');
  });
});

describe('systemicReason', () => {
  it.each([
    [404, /GitHub plugin/],
    [403, /proxy, CSRF or authorization/],
    [400, /webhook secret/],
    [302, /redirects webhooks: check jenkinsUrl/],
    [418, /Jenkins' logs/],
  ])('when Jenkins answered %i, the reason says what to check', (status, hint) => {
    expect(systemicReason(status, 5, 3)).toMatch(hint);
  });
});

describe('refusal statuses', () => {
  it('when nothing is configured, every 3xx and 4xx except 408 and 429 is judged', () => {
    const statuses = defaultRefusalStatuses();
    expect(statuses.has(301)).toBe(true);
    expect(statuses.has(404)).toBe(true);
    expect(statuses.has(408)).toBe(false);
    expect(statuses.has(429)).toBe(false);
    expect(statuses.has(500)).toBe(false);
    expect(statuses.size).toBe(198);
  });

  it('when a list mixes classes and statuses, it reads both', () => {
    expect([...parseRefusalStatuses('404, 403,3xx')].filter((s) => s >= 400)).toEqual([404, 403]);
    expect(parseRefusalStatuses('3xx').size).toBe(100);
  });

  it.each(['200', '408', '429', '5xx', 'abc', '600'])('when the list holds %j, it refuses it with the entry named', (entry) => {
    expect(() => parseRefusalStatuses(`404,${entry}`)).toThrow(JSON.stringify(entry));
  });
});
