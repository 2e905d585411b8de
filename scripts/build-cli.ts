/**
 * Bundles the operator CLI into one JavaScript file with the drain's esbuild options
 * (stacks/constructs/bundled-function-asset.ts), so `spigot` starts without compiling TypeScript.
 *
 * Run by `npm run build:cli` and the `prepare` script (so `npm ci` leaves a working `npx spigot`),
 * and by bin/spigot.js when a source the bundle was built from is newer than the bundle.
 * Next to the bundle it writes the list of source files it was built from, which is how
 * bin/spigot.js tells that it is stale.
 */
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { bundleOptions, PROJECT_ROOT } from '../stacks/constructs/bundled-function-asset';

export const CLI_ENTRY = 'cli/index.ts';
export const CLI_BUNDLE = path.join(PROJECT_ROOT, 'dist', 'cli', 'spigot.js');
/** The sources (outside node_modules) and lock file the bundle depends on, relative to the project root. */
export const CLI_INPUTS = path.join(PROJECT_ROOT, 'dist', 'cli', 'inputs.json');

export interface CliBuild {
  readonly bundle: string;
  readonly inputs: readonly string[];
  readonly bytes: number;
  readonly ms: number;
}

export function buildCli(): CliBuild {
  const started = Date.now();
  mkdirSync(path.dirname(CLI_BUNDLE), { recursive: true });
  // Parallel builds (jest workers, two shells) must never expose a half-written file: write, then rename.
  const tmp = `${CLI_BUNDLE}.${process.pid}.tmp`;
  const result = buildSync({
    ...bundleOptions(CLI_ENTRY, tmp),
    // The CLI runs on the operator's Node (20 or later), not on Lambda's 22.
    target: 'node20',
    metafile: true,
    // Input paths in the metafile are then relative to the project root, wherever this runs from.
    absWorkingDir: PROJECT_ROOT,
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((file) => !file.includes('node_modules'))
    .concat('package-lock.json')
    .sort();
  const tmpInputs = `${CLI_INPUTS}.${process.pid}.tmp`;
  writeFileSync(tmpInputs, `${JSON.stringify(inputs, null, 2)}\n`);
  renameSync(tmp, CLI_BUNDLE);
  renameSync(tmpInputs, CLI_INPUTS);
  return { bundle: CLI_BUNDLE, inputs, bytes: statSync(CLI_BUNDLE).size, ms: Date.now() - started };
}

if (require.main === module) {
  const built = buildCli();
  process.stdout.write(`built ${path.relative(PROJECT_ROOT, built.bundle)} (${Math.round(built.bytes / 1024)} KB) from ${built.inputs.length} sources in ${built.ms} ms\n`);
}
