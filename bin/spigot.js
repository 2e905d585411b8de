#!/usr/bin/env node
'use strict';
// Launcher for `npx spigot ...`: runs the TypeScript CLI through tsx when the sources are present
// (a checkout), or a compiled dist/cli/index.js if someone built one and shipped it without sources.
const path = require('node:path');
const fs = require('node:fs');

const source = path.join(__dirname, '..', 'cli', 'index.ts');
const compiled = path.join(__dirname, '..', 'dist', 'cli', 'index.js');

if (fs.existsSync(source)) {
  require('tsx/cjs/api').register();
  require(source).runFromProcess();
} else if (fs.existsSync(compiled)) {
  require(compiled).runFromProcess();
} else {
  process.stderr.write('spigot: cannot find cli/index.ts or dist/cli/index.js next to bin/spigot.js\n');
  process.exit(1);
}
