import { evaluateProbe, evaluateQuietDown } from '../../../functions/drain/core/health';

describe('evaluateProbe', () => {
  it('when the status is the expected one, Jenkins is healthy with no reason', () => {
    expect(evaluateProbe('/whoAmI/api/json', 200, [200])).toEqual({ healthy: true });
  });

  it('when several statuses are expected, any of them is healthy', () => {
    expect(evaluateProbe('/login', 200, [200, 403]).healthy).toBe(true);
    expect(evaluateProbe('/login', 403, [200, 403]).healthy).toBe(true);
  });

  it('when the status is not expected, it is unhealthy and the reason names the path and status', () => {
    const health = evaluateProbe('/whoAmI/api/json', 500, [200]);
    expect(health.healthy).toBe(false);
    expect(health.reason).toContain('/whoAmI/api/json');
    expect(health.reason).toContain('500');
    expect(health.reason).not.toMatch(/starts/);
  });

  it('when the probe answers 503, the reason hints that Jenkins may be starting', () => {
    const health = evaluateProbe('/whoAmI/api/json', 503, [200]);
    expect(health.healthy).toBe(false);
    expect(health.reason).toContain('503');
    expect(health.reason).toMatch(/starts/);
  });

  it('when 503 is itself expected, it is healthy', () => {
    expect(evaluateProbe('/x', 503, [503]).healthy).toBe(true);
  });

  it('when nothing is expected, every status is unhealthy', () => {
    expect(evaluateProbe('/x', 200, []).healthy).toBe(false);
  });
});

describe('evaluateQuietDown', () => {
  it('when Jenkins is not quieting down, it is healthy', () => {
    expect(evaluateQuietDown(200, '{"_class":"hudson.model.Hudson","quietingDown":false}')).toEqual({ healthy: true });
  });

  it('when the answer does not mention quiet-down, it is healthy', () => {
    expect(evaluateQuietDown(200, '{}')).toEqual({ healthy: true });
  });

  it('when Jenkins is quieting down, it is unhealthy because it is about to restart', () => {
    const health = evaluateQuietDown(200, '{"quietingDown":true}');
    expect(health.healthy).toBe(false);
    expect(health.reason).toMatch(/quieting down/);
  });

  it('when quietingDown is truthy but not true, it is not treated as quieting down', () => {
    expect(evaluateQuietDown(200, '{"quietingDown":"true"}').healthy).toBe(true);
  });

  it.each([401, 403])('when the check answers %i, it is unhealthy and points at the credentials parameter', (status) => {
    const health = evaluateQuietDown(status, '<html>denied</html>');
    expect(health.healthy).toBe(false);
    expect(health.reason).toContain(String(status));
    expect(health.reason).toMatch(/credentials/);
  });

  it.each([302, 404, 500, 503])('when the check answers %i, it is unhealthy and names the status', (status) => {
    const health = evaluateQuietDown(status, '{"quietingDown":false}');
    expect(health.healthy).toBe(false);
    expect(health.reason).toContain(String(status));
  });

  it.each(['<html>login</html>', '', '{"quietingDown":', 'null'])('when the body is not a JSON object (%j), it is unhealthy without throwing', (body) => {
    let health: ReturnType<typeof evaluateQuietDown> | undefined;
    expect(() => (health = evaluateQuietDown(200, body))).not.toThrow();
    expect(health?.healthy).toBe(false);
    expect(health?.reason).toMatch(/JSON/);
  });
});
