/** The drain agent's entry point in the image and the systemd unit (dist/agent.js): see agent-process.ts. */
import { runAgentProcess } from './agent-process';
import { createDrainRuntime } from './runtime';

runAgentProcess(createDrainRuntime()).then((code) => {
  if (code === 0) process.exitCode = 0;
  else process.exit(code);
});
