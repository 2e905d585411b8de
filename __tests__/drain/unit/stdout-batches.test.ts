import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { StdoutBatches } from '../../../functions/drain/adapters/stdout-batches';

/** A stream that records what reached it in each underlying write: one entry per syscall a pipe would make. */
function recordingStream() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.map((c) => String(c.chunk)).join(''));
      done();
    },
  });
  return { stream, writes };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('StdoutBatches', () => {
  it('when lines are written during a run, they reach the stream in one write, each line whole and in order', async () => {
    const { stream, writes } = recordingStream();
    await new StdoutBatches(stream, 10_000).around(async () => {
      for (let i = 0; i < 5; i += 1) stream.write(`{"line":${i}}\n`);
      expect(writes).toEqual([]);
    });
    expect(writes).toEqual(['{"line":0}\n{"line":1}\n{"line":2}\n{"line":3}\n{"line":4}\n']);
  });

  it('when a run lasts longer than the flush interval, what was written so far goes out without waiting for the end', async () => {
    const { stream, writes } = recordingStream();
    await new StdoutBatches(stream, 20).around(async () => {
      stream.write('first\n');
      await pause(80);
      expect(writes.join('')).toBe('first\n');
      stream.write('second\n');
    });
    expect(writes.join('')).toBe('first\nsecond\n');
    expect(stream.writableCorked).toBe(0);
  });

  it('when the run fails, everything written is still flushed and the error comes through', async () => {
    const { stream, writes } = recordingStream();
    await expect(new StdoutBatches(stream, 10_000).around(async () => {
      stream.write('before the failure\n');
      throw new Error('SQS unreachable');
    })).rejects.toThrow('SQS unreachable');
    expect(writes).toEqual(['before the failure\n']);
    expect(stream.writableCorked).toBe(0);
  });

  it('when runs follow one another, each ends with the stream uncorked and leaves no exit listener behind', async () => {
    const { stream, writes } = recordingStream();
    const batches = new StdoutBatches(stream, 10_000);
    const listeners = process.listenerCount('exit');
    for (let run = 0; run < 3; run += 1) await batches.around(async () => void stream.write(`run ${run}\n`));
    expect(writes).toEqual(['run 0\n', 'run 1\n', 'run 2\n']);
    expect(stream.writableCorked).toBe(0);
    expect(process.listenerCount('exit')).toBe(listeners);
  });

  it('when two runs overlap, lines still go out every interval and the stream is uncorked after the last', async () => {
    const { stream, writes } = recordingStream();
    const batches = new StdoutBatches(stream, 20);
    let endFirst!: () => void;
    const first = batches.around(() => new Promise<void>((resolve) => (endFirst = resolve)));
    await batches.around(async () => {
      stream.write('during both\n');
      await pause(80);
      expect(writes.join('')).toBe('during both\n');
    });
    expect(stream.writableCorked).toBeGreaterThan(0); // the first run is still going
    endFirst();
    await first;
    expect(stream.writableCorked).toBe(0);
  });

  it('when the process exits in the middle of a run, the lines it held are written before it goes', () => {
    const module = path.join(__dirname, '../../../functions/drain/adapters/stdout-batches.ts');
    const script = `const { StdoutBatches } = require(${JSON.stringify(module)});
      new StdoutBatches(process.stdout, 60000).around(async () => { process.stdout.write('held line\\n'); process.exit(3); });`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect(child.status).toBe(3);
    expect(child.stdout).toBe('held line\n');
  });
});
