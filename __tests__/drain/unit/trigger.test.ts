import type { DrainTrigger } from '../../../functions/drain/drain';

// index.ts reads its settings when loaded, so give it a complete environment first.
function loadTriggerOf(): (event: unknown) => DrainTrigger {
  const saved = { ...process.env };
  Object.assign(process.env, {
    JENKINS_URL: 'https://ci.example.com/jenkins/',
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/spigot.fifo',
    DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/spigot-dlq.fifo',
    SPIGOT_PARAMETER_NAME: '/spigot/spigot',
    AWS_REGION: 'eu-west-1',
  });
  try {
    let triggerOf: ((event: unknown) => DrainTrigger) | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      triggerOf = (require('../../../functions/drain/index') as { triggerOf: (event: unknown) => DrainTrigger }).triggerOf;
    });
    return triggerOf!;
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

describe('triggerOf', () => {
  const triggerOf = loadTriggerOf();

  it('when SSM reports a parameter change, the trigger is spigot-changed', () => {
    expect(triggerOf({ source: 'aws.ssm', 'detail-type': 'Parameter Store Change' })).toBe('spigot-changed');
  });

  it('when EventBridge Scheduler or a scheduled rule fires, the trigger is schedule', () => {
    expect(triggerOf({ source: 'aws.events', 'detail-type': 'Scheduled Event' })).toBe('schedule');
    expect(triggerOf({ source: 'aws.scheduler', 'detail-type': 'Scheduled Event' })).toBe('schedule');
    expect(triggerOf({ source: 'aws.events' })).toBe('schedule');
  });

  it.each([undefined, {}, { source: 'spigot.cli' }, { 'detail-type': 'Something Else' }])('when the event is %j, the trigger is manual', (event) => {
    expect(triggerOf(event)).toBe('manual');
  });
});
