import { createHmac } from 'node:crypto';
import { githubSignature, verifyGitHubSignature } from '../../../functions/shared/github-signature';

const SECRET = "It's a Secret to Everybody";
const BODY = Buffer.from('Hello, World!');
const sign = (secret: string, body: Buffer) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('verifyGitHubSignature', () => {
  it('when the header is the HMAC of the body with the secret, it accepts (GitHub\'s documented example)', () => {
    expect(verifyGitHubSignature(SECRET, BODY, 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17')).toBe(true);
  });

  it('when the body holds arbitrary bytes, the HMAC over the exact bytes is accepted', () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    expect(verifyGitHubSignature(SECRET, body, sign(SECRET, body))).toBe(true);
  });

  it('when one byte of the body is changed, it rejects', () => {
    const tampered = Buffer.from(BODY);
    tampered[0] ^= 0x01;
    expect(verifyGitHubSignature(SECRET, tampered, sign(SECRET, BODY))).toBe(false);
  });

  it('when the body has a byte appended, it rejects', () => {
    expect(verifyGitHubSignature(SECRET, Buffer.concat([BODY, Buffer.from('\n')]), sign(SECRET, BODY))).toBe(false);
  });

  it('when the signature was made with another secret, it rejects', () => {
    expect(verifyGitHubSignature(SECRET, BODY, sign('another secret', BODY))).toBe(false);
  });

  it('when the header is missing or empty, it rejects', () => {
    expect(verifyGitHubSignature(SECRET, BODY, undefined)).toBe(false);
    expect(verifyGitHubSignature(SECRET, BODY, '')).toBe(false);
  });

  it.each([
    ['the bare hex without the sha256= prefix', (h: string) => h.slice('sha256='.length)],
    ['a sha1= prefix', (h: string) => h.replace('sha256=', 'sha1=')],
    ['a truncated digest', (h: string) => h.slice(0, -2)],
    ['an extra character', (h: string) => `${h}0`],
    ['surrounding whitespace', (h: string) => ` ${h}`],
    ['the prefix only', () => 'sha256='],
    ['multi-byte characters instead of hex', () => `sha256=${'é'.repeat(64)}`],
    ['multi-byte characters with the same byte length as the digest', () => `sha256=${'é'.repeat(32)}`],
  ])('when the header has %s, it rejects without throwing', (_what, mangle) => {
    const header = mangle(sign(SECRET, BODY));
    let result: boolean | undefined;
    expect(() => (result = verifyGitHubSignature(SECRET, BODY, header))).not.toThrow();
    expect(result).toBe(false);
  });
});

describe('githubSignature', () => {
  it("when given GitHub's documented secret and body, it produces GitHub's documented signature", () => {
    expect(githubSignature(SECRET, BODY)).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  });
});
