import { startFauxqs, createBufferQueues, queueDepth, type Fauxqs, type BufferQueues } from '../support/fauxqs';
import { startLoopbackJenkins, type LoopbackJenkins } from '../support/loopback-jenkins';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';
import { loadDrain } from '../support/drain-harness';
import { Edge } from '../support/edge';
import { synthStack } from '../support/synth';
import { githubDelivery, WEBHOOK_SECRET } from '../support/webhooks';

describe('drain, spigot open and Jenkins healthy', () => {
  let fauxqs: Fauxqs;
  let jenkins: LoopbackJenkins;
  let ssm: LoopbackSsm;
  let queues: BufferQueues;

  beforeAll(async () => {
    [fauxqs, jenkins, ssm] = await Promise.all([startFauxqs(), startLoopbackJenkins({ secret: WEBHOOK_SECRET }), startLoopbackSsm()]);
    queues = await createBufferQueues(fauxqs.sqs, 'open-healthy');
    ssm.putDirect('/spigot/spigot', 'open');
  });
  afterAll(async () => {
    await Promise.all([fauxqs.stop(), jenkins.stop(), ssm.stop()]);
  });

  it('when webhooks for several repositories are queued, it delivers every one byte-exact and in order per repository', async () => {
    const edge = new Edge(synthStack().parsed, { endpoint: fauxqs.endpoint, queueUrl: queues.queueUrl });
    const sent: Array<{ repo: string; deliveryId: string; body: Buffer }> = [];
    for (let i = 0; i < 60; i += 1) {
      const repo = `octo-org/repo-${i % 6}`;
      const delivery = githubDelivery({ event: 'push', repo, contentType: i % 2 === 0 ? 'json' : 'form' });
      const answer = await edge.accept({ path: '/github-webhook/', headers: delivery.headers, body: delivery.body });
      expect(answer.status).toBe(202);
      sent.push({ repo, deliveryId: delivery.deliveryId, body: delivery.body });
    }
    const drain = loadDrain({
      jenkinsUrl: jenkins.url, queueUrl: queues.queueUrl, dlqUrl: queues.dlqUrl, parameterName: '/spigot/spigot',
      sqsEndpoint: fauxqs.endpoint, ssmEndpoint: ssm.endpoint, extra: { MAX_RUN_SECONDS: '5' },
    });
    const { result, output } = await drain.invoke();
    expect(result.action).toBe('released');
    expect(result.stats?.released).toBe(60);
    const accepted = jenkins.accepted();
    expect(accepted).toHaveLength(60);
    expect(accepted.every((d) => d.signatureValid)).toBe(true);
    for (const repo of new Set(sent.map((s) => s.repo))) {
      expect(accepted.filter((d) => d.repo === repo).map((d) => d.deliveryId)).toEqual(sent.filter((s) => s.repo === repo).map((s) => s.deliveryId));
    }
    for (const s of sent) expect(accepted.find((d) => d.deliveryId === s.deliveryId)?.body.equals(s.body)).toBe(true);
    expect(await queueDepth(fauxqs.sqs, queues.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(output.join('\n')).not.toContain(sent[0].body.toString('utf8').slice(0, 40));
  });
});
