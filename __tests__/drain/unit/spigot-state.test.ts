import {
  AUTO_CLOSE_PREFIX,
  autoCloseDescription,
  drainOwnsClose,
  parseAutoCloseDescription,
  withHealthyProbes,
} from '../../../functions/drain/core/spigot-state';
import { parseSpigotState } from '../../../functions/shared/spigot-state';

const AT = new Date('2024-05-06T07:08:09.010Z');

describe('parseSpigotState', () => {
  it.each(['open', 'OPEN', 'Open', 'oPeN', 'on', 'ON', 'On'])('when the value is %j, it reads open and recognised', (value) => {
    expect(parseSpigotState(value)).toEqual({ state: 'open', recognised: true });
  });

  it.each(['closed', 'CLOSED', 'Closed', 'off', 'OFF', 'Off'])('when the value is %j, it reads closed and recognised', (value) => {
    expect(parseSpigotState(value)).toEqual({ state: 'closed', recognised: true });
  });

  it.each([' open', 'open ', '\topen\n', '  ON  '])('when an open value is surrounded by whitespace (%j), it still reads open', (value) => {
    expect(parseSpigotState(value)).toEqual({ state: 'open', recognised: true });
  });

  it.each([' closed ', '\noff\t'])('when a closed value is surrounded by whitespace (%j), it still reads closed', (value) => {
    expect(parseSpigotState(value)).toEqual({ state: 'closed', recognised: true });
  });

  it.each(['', '   ', 'opened', 'true', 'yes', '1', 'o pen', 'open!', 'close', 'enabled', '"open"'])(
    'when the value is unrecognised (%j), it fails safe to closed and says it was not recognised',
    (value) => {
      expect(parseSpigotState(value)).toEqual({ state: 'closed', recognised: false });
    },
  );

  it('when there is no value at all, it fails safe to closed and says it was not recognised', () => {
    expect(parseSpigotState(undefined)).toEqual({ state: 'closed', recognised: false });
  });
});

describe('auto-close descriptions', () => {
  it('when the drain closes the spigot, the description starts with the auto-close prefix and carries the time, the reason and zero probes', () => {
    const description = autoCloseDescription('Jenkins answered 502', AT, 7);
    expect(description.startsWith(AUTO_CLOSE_PREFIX)).toBe(true);
    expect(description).toContain(AT.toISOString());
    expect(description).toContain('Jenkins answered 502');
    expect(description.endsWith('healthy probes since: 0')).toBe(true);
  });

  it('when a description the drain wrote is read back, it is recognised as an auto-close with its probe count', () => {
    expect(parseAutoCloseDescription(autoCloseDescription('probe failed', AT, 7))).toEqual({ healthyProbes: 0, overVersion: 7 });
    expect(parseAutoCloseDescription(autoCloseDescription('probe failed', AT, 7, 3))).toEqual({ healthyProbes: 3, overVersion: 7 });
  });

  it('when the probe count is updated repeatedly, it reads back the latest count and keeps the rest of the description', () => {
    const original = autoCloseDescription('5 consecutive failed releases, last: ECONNREFUSED', AT, 7);
    let description = original;
    for (const count of [1, 2, 9, 10, 11, 250]) {
      description = withHealthyProbes(description, count, 7 + count);
      expect(parseAutoCloseDescription(description)).toEqual({ healthyProbes: count, overVersion: 7 + count });
    }
    expect(withHealthyProbes(description, 0, 7)).toBe(original);
  });

  it('when the reason mentions a probe count itself, only the trailing count is read and updated', () => {
    const description = autoCloseDescription('healthy probes since: 99 is not the count', AT, 4, 2);
    expect(parseAutoCloseDescription(description)).toEqual({ healthyProbes: 2, overVersion: 4 });
    const updated = withHealthyProbes(description, 3, 5);
    expect(parseAutoCloseDescription(updated)).toEqual({ healthyProbes: 3, overVersion: 5 });
    expect(updated).toContain('healthy probes since: 99 is not the count');
  });

  it('when the reason is very long, the description never exceeds the 1024 characters SSM allows', () => {
    for (const length of [900, 1000, 1024, 5000]) {
      const description = autoCloseDescription('x'.repeat(length), AT, 123456, 12);
      expect(description.length).toBeLessThanOrEqual(1024);
      expect(description.startsWith(AUTO_CLOSE_PREFIX)).toBe(true);
    }
  });

  it('when the reason is very long, the probe count still round-trips through the capped description', () => {
    const description = autoCloseDescription(`connect ETIMEDOUT ${'y'.repeat(3000)}`, AT, 9);
    expect(parseAutoCloseDescription(description)).toEqual({ healthyProbes: 0, overVersion: 9 });
    const updated = withHealthyProbes(description, 3, 10);
    expect(parseAutoCloseDescription(updated)).toEqual({ healthyProbes: 3, overVersion: 10 });
    expect(updated.length).toBeLessThanOrEqual(1024);
    // AUTO_REOPEN_AFTER_HEALTHY_PROBES goes up to 1000: a 4-digit count must still fit.
    const grown = withHealthyProbes(updated, 1000, 11);
    expect(parseAutoCloseDescription(grown)).toEqual({ healthyProbes: 1000, overVersion: 11 });
    expect(grown.length).toBeLessThanOrEqual(1024);
  });

  it.each([
    ['a person closed it', 'closed for the Jenkins upgrade'],
    ['the description is empty', ''],
    ['the prefix only appears later on', 'note: auto-closed by drain yesterday, closing by hand now; healthy probes since: 4'],
    ['the prefix is in another case', 'Auto-Closed By Drain at 2024-01-01T00:00:00.000Z: x; healthy probes since: 4'],
  ])('when %s, it is not treated as an auto-close', (_why, description) => {
    expect(parseAutoCloseDescription(description)).toBeUndefined();
  });

  it('when there is no description, it is not treated as an auto-close', () => {
    expect(parseAutoCloseDescription(undefined)).toBeUndefined();
  });
});

describe('drainOwnsClose', () => {
  const description = autoCloseDescription('probe failed', AT, 7, 2);

  it('when the current version is the one right after the version the drain wrote over, the drain owns the close', () => {
    expect(drainOwnsClose({ value: 'closed', version: 8, description })).toEqual({ healthyProbes: 2, overVersion: 7 });
  });

  it.each([
    ['someone wrote after the drain (a put-parameter that kept the drain\'s description)', 9],
    ['someone wrote between the drain\'s read and its write', 10],
    ['the version is older than the one the drain names', 7],
  ])('when %s, the drain does not own it', (_why, version) => {
    expect(drainOwnsClose({ value: 'closed', version, description })).toBeUndefined();
  });

  it('when the description comes from an older drain that named no version, the drain does not own it', () => {
    expect(drainOwnsClose({ value: 'closed', version: 8, description: 'auto-closed by drain at 2024-05-06T07:08:09.010Z: probe failed; healthy probes since: 0' })).toBeUndefined();
  });

  it('when a person wrote the description, the drain does not own it whatever the version', () => {
    expect(drainOwnsClose({ value: 'closed', version: 8, description: 'closed for the upgrade' })).toBeUndefined();
  });
});
