/**
 * The loopback Jenkins of __tests__/support, run in its own process for the benchmark
 * (forked by bench/lib/procs.ts with `--import tsx`). Talks to the parent over IPC:
 *   {cmd:'start', secret, serviceTimeMs} -> {type:'ready', url}
 *   {cmd:'snapshot', id}                 -> {type:'snapshot', id, snapshot}
 *   {cmd:'count', id}                    -> {type:'count', id, accepted, received}
 *   {cmd:'notify', count}                -> {type:'reached', count} once `count` POSTs were answered 200
 *   {cmd:'reset', id, serviceTimeMs?}    -> {type:'reset', id}: forgets the deliveries so far (the next
 *                                           consumer replays the same delivery ids), sets the service time
 */
import { startLoopbackJenkins, type LoopbackJenkins } from '../__tests__/support/loopback-jenkins';

let jenkins: LoopbackJenkins | undefined;
let notifyAt: number | undefined;
let accepted = 0;
let watcher: NodeJS.Timeout | undefined;

const send = (message: unknown) => process.send?.(message);

function check(): void {
  if (!jenkins || notifyAt === undefined) return;
  accepted = 0;
  for (const d of jenkins.deliveries) if (d.status === 200) accepted += 1;
  if (accepted >= notifyAt) {
    send({ type: 'reached', count: accepted });
    notifyAt = undefined;
  }
}

process.on('message', async (raw) => {
  const message = raw as { cmd: string; [k: string]: unknown };
  try {
    if (message.cmd === 'start') {
      jenkins = await startLoopbackJenkins({ secret: message.secret as string, serviceTimeMs: message.serviceTimeMs as number });
      send({ type: 'ready', url: jenkins.url });
    } else if (message.cmd === 'snapshot') {
      const j = jenkins!;
      send({
        type: 'snapshot',
        id: message.id,
        snapshot: {
          maxInFlight: j.maxInFlight,
          inFlight: j.inFlight,
          deliveries: j.deliveries.map((d) => ({
            deliveryId: d.deliveryId, repo: d.repo, receivedAt: d.receivedAt, answeredAt: d.answeredAt, status: d.status, signatureValid: d.signatureValid,
          })),
        },
      });
    } else if (message.cmd === 'count') {
      let ok = 0;
      for (const d of jenkins!.deliveries) if (d.status === 200) ok += 1;
      send({ type: 'count', id: message.id, accepted: ok, received: jenkins!.deliveries.length });
    } else if (message.cmd === 'reset') {
      jenkins!.deliveries.length = 0;
      if (typeof message.serviceTimeMs === 'number') jenkins!.setServiceTimeMs(message.serviceTimeMs);
      jenkins!.requests.length = 0;
      accepted = 0;
      send({ type: 'reset', id: message.id });
    } else if (message.cmd === 'notify') {
      notifyAt = message.count as number;
      // 20 ms granularity is well below what is measured (Jenkins' own timestamps are used for throughput).
      watcher ??= setInterval(check, 20);
      check();
    }
  } catch (error) {
    send({ type: 'error', message: (error as Error).message });
  }
});

const stop = async () => {
  if (watcher) clearInterval(watcher);
  await jenkins?.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop); // parent went away
