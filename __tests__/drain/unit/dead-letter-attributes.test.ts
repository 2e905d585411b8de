import {
  BUFFER_MAX_MESSAGE_BYTES,
  DEAD_LETTER_ATTRIBUTES,
  DEAD_LETTER_ATTRIBUTES_MAX_BYTES,
  SQS_MAX_MESSAGE_BYTES,
  isHttpStatus,
  truncateUtf8,
} from '../../../functions/shared/dead-letter-attributes';

describe('dead-letter attribute budget', () => {
  it('when the budget is computed, it counts each name, data type and largest value in UTF-8 bytes', () => {
    // SpigotReason String 1000 + SpigotStatus Number 3 + SpigotOriginalMessageId String 100.
    expect(DEAD_LETTER_ATTRIBUTES_MAX_BYTES).toBe(12 + 6 + 1000 + (12 + 6 + 3) + (23 + 6 + 100));
    expect(Object.values(DEAD_LETTER_ATTRIBUTES).map((a) => a.name).sort()).toEqual(['SpigotOriginalMessageId', 'SpigotReason', 'SpigotStatus']);
    expect(BUFFER_MAX_MESSAGE_BYTES + DEAD_LETTER_ATTRIBUTES_MAX_BYTES).toBe(SQS_MAX_MESSAGE_BYTES);
  });

  it('when text is longer than the byte limit, it keeps the longest prefix of whole characters that fits', () => {
    expect(truncateUtf8('€€€', 7)).toBe('€€'); // 3 bytes each: a third would need 9
    expect(truncateUtf8('a😀b', 4)).toBe('a'); // never half a surrogate pair
    expect(truncateUtf8('a😀b', 5)).toBe('a😀');
    expect(truncateUtf8('short', 1000)).toBe('short');
    const cut = truncateUtf8('é'.repeat(1000), 1000);
    expect(cut).toBe('é'.repeat(500));
    expect(Buffer.byteLength(cut)).toBe(1000);
  });

  it('when a status is not a three-digit HTTP status, it is not one SpigotStatus can carry', () => {
    expect([100, 404, 599].every(isHttpStatus)).toBe(true);
    expect([undefined, 99, 1000, 404.5, -1, Number.NaN].some(isHttpStatus)).toBe(false);
  });
});
