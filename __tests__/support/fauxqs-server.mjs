// Runs fauxqs@1.9.2 (ESM only) in its own process so CommonJS jest suites and the
// benchmark can use it. Prints one JSON line with the endpoint once it listens.
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, logger: false, defaultRegion: 'us-east-1' });
process.stdout.write(`${JSON.stringify({ endpoint: server.address })}\n`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop); // parent went away
process.stdin.resume();
