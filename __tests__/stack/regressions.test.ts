/**
 * Regressions: configurations the validator once accepted but AWS or synth rejected,
 * and a redeployment hash that once missed inputs. Each test names the file it guards.
 */
import { configProblems, onlyResourceOfType, synthStack, type SynthesizedStack } from '../support/synth';

const problemsFor = (override: object): string[] => configProblems(override);

const redeploymentHash = (parsed: SynthesizedStack): string => onlyResourceOfType(parsed, 'aws_api_gateway_deployment')[1].triggers.redeployment;

describe('known stack bugs', () => {
  it('when two valid routes differ only in punctuation, it synthesizes both (stacks/constructs/webhook-api.ts resource ids)', () => {
    expect(problemsFor({ routes: ['/hooks/a-b', '/hooks/a_b'] })).toEqual([]);
    expect(() => synthStack({ routes: ['/hooks/a-b', '/hooks/a_b'] })).not.toThrow();
  });

  it('when a CIDR has an octet above 255 or a prefix above 32, validateConfig rejects it (stacks/config.ts CIDR)', () => {
    for (const cidr of ['256.0.0.0/8', '10.0.0.0/33', '10.0.0.0/99', '::/129']) {
      expect(problemsFor({ allowedSourceCidrs: [cidr] })).toEqual([expect.stringMatching(/^allowedSourceCidrs\[0\]: /)]);
    }
  });

  it('when jenkinsUrl carries only a password, validateConfig rejects it like any credentials (stacks/config.ts checkJenkinsUrl)', () => {
    expect(problemsFor({ jenkinsUrl: 'https://:api-token@jenkins.example.com' })).toEqual([expect.stringMatching(/^jenkinsUrl: /)]);
  });

  it('when alarms.maxClosedHours exceeds 7 days, validateConfig rejects it (CloudWatch caps period x evaluationPeriods at 604800 s)', () => {
    expect(problemsFor({ alarms: { maxClosedHours: 168 } })).toEqual([]);
    expect(problemsFor({ alarms: { maxClosedHours: 169 } })).toEqual([expect.stringMatching(/^alarms\.maxClosedHours: /)]);
  });

  it('when a route contains "~", validateConfig rejects it (API Gateway path parts allow only a-zA-Z0-9._-)', () => {
    expect(problemsFor({ routes: ['/~hooks'] })).toEqual([expect.stringMatching(/^routes\[0\]: /)]);
  });

  it('when the stack name or region changes, the integration URI changes and so must the redeployment hash (stacks/constructs/webhook-api.ts fingerprint)', () => {
    const base = redeploymentHash(synthStack().parsed);
    expect(redeploymentHash(synthStack({ name: 'other' }).parsed)).not.toBe(base);
    expect(redeploymentHash(synthStack({ region: 'eu-west-1' }).parsed)).not.toBe(base);
  });
});
