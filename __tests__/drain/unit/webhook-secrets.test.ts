import { githubSignature } from '../../../functions/shared/github-signature';
import { parseWebhookSecrets, verifiesWithAny } from '../../../functions/shared/webhook-secrets';

const body = Buffer.from('{"zen":"Keep it logically awesome."}');

describe('webhook secrets', () => {
  it('when the parameter holds one secret with a trailing newline, the newline is not part of it', () => {
    const secrets = parseWebhookSecrets('s3cret\n');
    expect(secrets.values).toEqual(['s3cret']);
    expect(verifiesWithAny(secrets, body, githubSignature('s3cret', body))).toBe(true);
  });

  it('when the parameter holds the new and the old secret during a rotation, deliveries signed with either verify and others do not', () => {
    const secrets = parseWebhookSecrets('new one\r\nold one');
    expect(secrets.values).toEqual(['new one', 'old one']);
    expect(verifiesWithAny(secrets, body, githubSignature('new one', body))).toBe(true);
    expect(verifiesWithAny(secrets, body, githubSignature('old one', body))).toBe(true);
    expect(verifiesWithAny(secrets, body, githubSignature('new one\r\nold one', body))).toBe(false);
    expect(verifiesWithAny(secrets, body, githubSignature('forger', body))).toBe(false);
  });

  it('when the secrets differ, the fingerprints differ, and the fingerprint is a short hash', () => {
    const a = parseWebhookSecrets('a');
    expect(parseWebhookSecrets('a\n').fingerprint).toBe(a.fingerprint);
    expect(parseWebhookSecrets('a\nb').fingerprint).not.toBe(a.fingerprint);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('when the parameter holds only newlines, it says what to put in it', () => {
    expect(() => parseWebhookSecrets('\n\n')).toThrow(/webhook secret parameter is empty: put the secret the hooks sign with/);
  });
});
