/** Bundles the drain agent into dist/agent.js with the same esbuild options as the Lambda. */
import path from 'node:path';
import { buildSync } from 'esbuild';
import { PROJECT_ROOT, bundleOptions } from '../stacks/constructs/bundled-function-asset';

const outfile = path.join(PROJECT_ROOT, 'dist', 'agent.js');
buildSync(bundleOptions('functions/drain/agent-main.ts', outfile));
console.log(`wrote ${path.relative(PROJECT_ROOT, outfile)}`);
