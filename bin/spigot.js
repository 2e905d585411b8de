#!/usr/bin/env node
'use strict';
// Launcher for `npx spigot ...`: runs the esbuild bundle dist/cli/spigot.js (built by `npm ci` through
// the `prepare` script). In a checkout it rebuilds the bundle first when a source it was built from
// changed, so an edited cli/ never runs stale; that check is a few stat calls.
const path = require('node:path');
const fs = require('node:fs');

// The pinned AWS SDK warns on Node 20 that later SDK releases need Node 22; the versions are pinned
// on purpose (README). This is the SDK's documented switch (aws/aws-sdk-js-v3#7983).
if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}

const root = path.join(__dirname, '..');
const bundle = path.join(root, 'dist', 'cli', 'spigot.js');
const inputsFile = path.join(root, 'dist', 'cli', 'inputs.json');
const isCheckout = fs.existsSync(path.join(root, 'cli', 'index.ts'));

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Why the bundle must be (re)built, or undefined when it is current. */
function staleBecause() {
  const built = mtime(bundle);
  if (built === undefined) return 'not built yet';
  if (!isCheckout) return undefined;
  let inputs;
  try {
    inputs = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
  } catch {
    return 'its list of sources is missing';
  }
  for (const input of inputs) {
    const changed = mtime(path.join(root, input));
    // A deleted source changes the bundle as much as an edited one.
    if (changed === undefined || changed > built) return `${input} changed`;
  }
  return undefined;
}

const why = staleBecause();
if (why !== undefined && isCheckout) {
  try {
    if (process.stderr.isTTY) process.stderr.write(`spigot: building the CLI bundle (${why}) ...\n`);
    require('tsx/cjs/api').register();
    require(path.join(root, 'scripts', 'build-cli.ts')).buildCli();
  } catch (error) {
    if (mtime(bundle) === undefined) {
      process.stderr.write(`spigot: cannot build the CLI bundle (${error.message.split('\n')[0]}); run \`npm ci\` or \`npm run build:cli\`\n`);
      process.exit(1);
    }
    process.stderr.write(`spigot: warning: running a stale CLI bundle (${why}); rebuilding failed: ${error.message.split('\n')[0]}\n`);
  }
} else if (why !== undefined) {
  process.stderr.write('spigot: dist/cli/spigot.js is missing next to bin/spigot.js; run `npm run build:cli` in a checkout\n');
  process.exit(1);
}

require(bundle).runFromProcess();
