// The drain bundle in its own process, as a Lambda container runs it (forked by bench/lib/drain.ts,
// plain CommonJS so no loader hook touches the bundle). argv[2] is the bundle; the environment is
// the drain's. Its CPU is then the drain's alone. Over IPC:
//   <- {type:'ready', initMs, initCpuMs}               after the timed require
//   -> {cmd:'invoke', event, timeoutMs}                runs the handler once
//   -> {cmd:'remaining', ms}                           the Lambda's remaining time is now `ms`
//   <- {type:'done', result | error, wallMs, cpuMs, samples, calls}
// While the handler runs, every SAMPLE_MS it records [ms since invoke, own CPU ms, POSTs to Jenkins
// started], so the bench can take CPU per webhook over the steady part of the run. HTTP requests are
// counted by port (SQS by X-Amz-Target) through a wrapper around node:http's request(), installed
// before the bundle loads; the bundled SDK and the Jenkins client both call it.
'use strict';
const http = require('node:http');

const SAMPLE_MS = 50;
const ports = { sqs: portOf(process.env.AWS_ENDPOINT_URL_SQS), jenkins: portOf(process.env.JENKINS_URL) };
const calls = { jenkinsPosts: 0, sqs: {} };

function portOf(url) {
  return url ? Number(new URL(url).port) : -1;
}

const originalRequest = http.request;
http.request = function countedRequest(...args) {
  const first = args[0];
  const options = typeof first === 'object' && first !== null && !(first instanceof URL) ? first : args[1];
  const port = Number((options && options.port) || (first instanceof URL ? first.port : -1));
  if (port === ports.sqs) {
    const headers = (options && options.headers) || {};
    const key = Object.keys(headers).find((k) => k.toLowerCase() === 'x-amz-target');
    const action = key ? String(headers[key]).replace(/^AmazonSQS\./, '') : 'unknown';
    calls.sqs[action] = (calls.sqs[action] || 0) + 1;
  } else if (port === ports.jenkins && options && options.method === 'POST') {
    calls.jenkinsPosts += 1;
  }
  return originalRequest.apply(this, args);
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const cpu0 = cpuMs();
const t0 = performance.now();
const { handler } = require(process.argv[2]);
process.send({ type: 'ready', initMs: performance.now() - t0, initCpuMs: cpuMs() - cpu0 });

let deadline = 0;
process.on('message', async (message) => {
  if (message.cmd === 'remaining') {
    deadline = Date.now() + message.ms;
    return;
  }
  if (message.cmd !== 'invoke') return;
  deadline = Date.now() + message.timeoutMs;
  // Counted per invocation: a warm container runs several.
  calls.jenkinsPosts = 0;
  calls.sqs = {};
  const started = performance.now();
  const cpuStart = cpuMs();
  const samples = [];
  const sample = () => samples.push([performance.now() - started, cpuMs() - cpuStart, calls.jenkinsPosts]);
  const sampler = setInterval(sample, SAMPLE_MS);
  let outcome;
  try {
    outcome = { result: await handler(message.event, { getRemainingTimeInMillis: () => deadline - Date.now() }) };
  } catch (error) {
    outcome = { error: String((error && error.stack) || error) };
  }
  clearInterval(sampler);
  sample();
  process.send({ type: 'done', ...outcome, wallMs: performance.now() - started, cpuMs: cpuMs() - cpuStart, samples, calls });
});
process.on('disconnect', () => process.exit(0));
