/** Pure decisions about Jenkins' health answers. */
export interface Health {
  readonly healthy: boolean;
  readonly reason?: string;
}

export function evaluateProbe(path: string, status: number, expectStatus: readonly number[]): Health {
  if (expectStatus.includes(status)) return { healthy: true };
  const hint = status === 503 ? ' (Jenkins answers 503 while it starts)' : '';
  return { healthy: false, reason: `probe ${path} answered ${status}${hint}` };
}

/** `/api/json?tree=quietingDown` answer: quiet-down means Jenkins is about to restart. */
export function evaluateQuietDown(status: number, body: string): Health {
  if (status === 401 || status === 403) {
    return { healthy: false, reason: `quiet-down check answered ${status}: check the Jenkins credentials parameter` };
  }
  if (status !== 200) return { healthy: false, reason: `quiet-down check answered ${status}` };
  try {
    const parsed = JSON.parse(body) as { quietingDown?: unknown };
    if (parsed.quietingDown === true) return { healthy: false, reason: 'Jenkins is quieting down (preparing to restart)' };
    return { healthy: true };
  } catch {
    return { healthy: false, reason: 'quiet-down check did not answer JSON' };
  }
}
