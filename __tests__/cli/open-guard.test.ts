import { autoCloseDescription } from '../../functions/drain/core/spigot-state';
import { isOwnClose, judgeOpen } from '../../cli/open-guard';
import type { SpigotReading } from '../../cli/spigot';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';

const PARAMETER = '/cli-guard/spigot';

describe('spigot open: someone else\'s close', () => {
  let ssm: LoopbackSsm;
  const env = (user: string) => cliEnv({ SPIGOT_PARAMETER_NAME: PARAMETER, USER: user });

  beforeAll(async () => {
    ssm = await startLoopbackSsm();
    useEmulatorEnvironment({ ssm: ssm.endpoint });
  });
  afterAll(async () => {
    await ssm?.stop();
  });
  beforeEach(() => {
    ssm.putDirect(PARAMETER, 'open', { description: 'created open by Terraform' });
  });

  /** The drain's close as the drain writes it: over the version it read, so it owns the next one. */
  const drainCloses = (reason: string) => {
    const over = ssm.parameter(PARAMETER)!.version;
    ssm.putDirect(PARAMETER, 'closed', { description: autoCloseDescription(reason, new Date(), over), user: 'arn:aws:sts::123456789012:assumed-role/spigot-drain/spigot-drain' });
  };

  it('when another person closed it, open refuses in one line saying who, when and why, and leaves it closed', async () => {
    expect((await runCli(['close', '--reason', 'Jenkins 2.480 upgrade, CHG-7'], { env: env('alice') })).code).toBe(0);
    const closed = ssm.parameter(PARAMETER)!;
    const result = await runCli(['open'], { env: env('bob') });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toHaveLength(2); // one line and its newline
    expect(result.stderr).toContain(`not opening: the spigot was closed by arn:aws:iam::123456789012:user/test at ${closed.lastModifiedDate.toISOString()} (`);
    expect(result.stderr).toContain(`version ${closed.version}: "closed by alice via spigot CLI: Jenkins 2.480 upgrade, CHG-7"`);
    expect(result.stderr).toContain('pass --force to open it anyway');
    expect(ssm.parameter(PARAMETER)!.value).toBe('closed');
    expect(ssm.parameter(PARAMETER)!.version).toBe(closed.version);
  });

  it('when --force is given, it opens and records whose close it overrode', async () => {
    await runCli(['close', '--reason', 'upgrade'], { env: env('alice') });
    const result = await runCli(['open', '--force', '--reason', 'alice is off shift'], { env: env('bob') });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('the spigot is now open (was closed)');
    expect(result.stdout).toContain('forced over: the close by arn:aws:iam::123456789012:user/test');
    expect(ssm.parameter(PARAMETER)!).toMatchObject({
      value: 'open',
      description: 'opened by bob via spigot CLI (--force over: closed by alice via spigot CLI: upgrade): alice is off shift',
    });
  });

  it('when the operator opens their own close, no --force is needed', async () => {
    await runCli(['close', '--reason', 'upgrade'], { env: env('alice') });
    const result = await runCli(['open', '--json'], { env: env('alice') });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).verdict).toEqual({ kind: 'free', why: 'your own close' });
    expect(ssm.parameter(PARAMETER)!.value).toBe('open');
  });

  it('when the drain still owns its auto-close, anyone may open it without --force', async () => {
    drainCloses('Jenkins probe failed: 503');
    const result = await runCli(['open', '--reason', 'Jenkins is back'], { env: env('bob') });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("reopened:    the drain's own auto-close (auto-closed by drain at ");
    expect(ssm.parameter(PARAMETER)!.description).toBe('opened by bob via spigot CLI: Jenkins is back');
  });

  it.each([
    ['someone re-wrote closed without a description (the old one carries over)', () => ssm.putDirect(PARAMETER, 'closed', { user: 'arn:aws:iam::123456789012:user/carol' })],
    ['someone closed it again with the drain\'s description copied', () => ssm.putDirect(PARAMETER, 'closed', { description: ssm.parameter(PARAMETER)!.description, user: 'arn:aws:iam::123456789012:user/carol' })],
  ])('when the drain auto-closed and then %s, the close is no longer the drain\'s and open refuses', async (_case, overwrite) => {
    drainCloses('Jenkins probe failed: 503');
    overwrite();
    const result = await runCli(['open'], { env: env('bob') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('closed by arn:aws:iam::123456789012:user/carol');
    expect(result.stderr).toContain('"auto-closed by drain at ');
    expect(ssm.parameter(PARAMETER)!.value).toBe('closed');
  });

  it('when someone closed it outside the CLI or wrote an unrecognised value, open refuses', async () => {
    ssm.putDirect(PARAMETER, 'closed', { description: 'closed for the datacenter move', user: 'arn:aws:iam::123456789012:user/dave' });
    const aws = await runCli(['open'], { env: env('dave') });
    expect(aws.code).toBe(1);
    expect(aws.stderr).toContain(': "closed for the datacenter move"; that close is neither yours');
    ssm.putDirect(PARAMETER, 'paused', { description: 'typo?' });
    expect((await runCli(['open'], { env: env('dave') })).code).toBe(1);
    expect((await runCli(['open', '--force'], { env: env('dave') })).code).toBe(0);
  });

  it('when another write lands between its read and its write, it says so', async () => {
    await runCli(['close', '--reason', 'upgrade'], { env: env('alice') });
    ssm.beforeAction('PutParameter', () => {
      ssm.beforeAction('PutParameter', null);
      ssm.putDirect(PARAMETER, 'closed', { description: 'closed by erin via spigot CLI: second look', user: 'arn:aws:iam::123456789012:user/erin' });
    });
    const result = await runCli(['open'], { env: env('alice') });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/note: {8}another change landed at the same time \(now version \d+\); check `spigot status`/);
  });

  it('when close has no reason, it refuses and writes nothing', async () => {
    const before = ssm.parameter(PARAMETER)!.version;
    expect((await runCli(['close'], { env: env('alice') })).code).toBe(2);
    expect((await runCli(['close', '--reason', ''], { env: env('alice') })).code).toBe(2);
    expect(ssm.parameter(PARAMETER)!.version).toBe(before);
  });
});

describe('judgeOpen without AWS', () => {
  const reading = (over: Partial<SpigotReading>): SpigotReading => ({
    state: 'closed',
    recognised: true,
    value: 'closed',
    parameterName: '/x/spigot',
    version: 9,
    changedBy: 'arn:aws:iam::1:user/a',
    changedAt: '2026-01-01T00:00:00.000Z',
    reason: null,
    ...over,
  });

  it('when the operator name is a prefix of another or holds regex characters, only the exact name is "own"', () => {
    expect(isOwnClose('closed by alice via spigot CLI: x', 'alice')).toBe(true);
    expect(isOwnClose('closed by alice via spigot CLI', 'alice')).toBe(true);
    expect(isOwnClose('closed by alice2 via spigot CLI: x', 'alice')).toBe(false);
    expect(isOwnClose('closed by a.b via spigot CLI: x', 'a+b')).toBe(false);
    expect(isOwnClose('closed by a+b via spigot CLI: x', 'a+b')).toBe(true);
    expect(isOwnClose('opened by alice via spigot CLI', 'alice')).toBe(false);
    expect(isOwnClose(null, 'alice')).toBe(false);
  });

  it('when the drain\'s description names the version right before the current one, the close is the drain\'s, otherwise it is guarded', () => {
    const description = autoCloseDescription('probe failed', new Date('2026-01-01T00:00:00Z'), 8);
    expect(judgeOpen(reading({ version: 9, reason: description }), 'bob')).toEqual({ kind: 'free', why: "the drain's own auto-close" });
    expect(judgeOpen(reading({ version: 10, reason: description }), 'bob')).toMatchObject({ kind: 'guarded', version: 10, reason: description });
    expect(judgeOpen(reading({ version: null, reason: description }), 'bob').kind).toBe('guarded');
  });

  it('when the spigot is open, opening is free; an unrecognised value counts as a close', () => {
    expect(judgeOpen(reading({ state: 'open', value: 'open' }), 'bob')).toEqual({ kind: 'free', why: 'already open' });
    expect(judgeOpen(reading({ state: 'closed', recognised: false, value: 'maybe' }), 'bob')).toMatchObject({ kind: 'guarded', closedBy: 'arn:aws:iam::1:user/a' });
    expect(judgeOpen(reading({ changedBy: null }), 'bob')).toMatchObject({ kind: 'guarded', closedBy: 'an unknown identity' });
  });
});
