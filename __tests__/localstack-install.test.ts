import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPython313 } from './support/localstack-install';

describe('finding Python 3.13 for LocalStack', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'spigot-find-python-'));
    // Nothing to find but what the test plants: an empty PATH and an empty pyenv root.
    Object.assign(process.env, { PATH: path.join(dir, 'bin'), PYENV_ROOT: path.join(dir, 'pyenv') });
  });
  afterEach(() => {
    for (const key of ['PATH', 'PYENV_ROOT', 'LOCALSTACK_PYTHON']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const fakePython = (version: string) => {
    const file = path.join(dir, `python-${version}`);
    writeFileSync(file, `#!/bin/sh\necho ${version}\n`);
    chmodSync(file, 0o755);
    return file;
  };

  it('when LOCALSTACK_PYTHON is a 3.13, it uses that one', () => {
    process.env.LOCALSTACK_PYTHON = fakePython('3.13.4');
    expect(findPython313()).toBe(process.env.LOCALSTACK_PYTHON);
  });

  it('when no Python 3.13 can be found, it names what it tried and how to get one', () => {
    process.env.LOCALSTACK_PYTHON = fakePython('3.11.2');
    expect(() => findPython313()).toThrow(/needs Python 3\.13.*python-3\.11\.2 \(is 3\.11\.2\).*python3\.13 \(.*ENOENT.*pyenv install 3\.13.*LOCALSTACK_PYTHON/);
  });
});
