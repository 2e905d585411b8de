/**
 * The deploy and rollback commands the README and runbook give must work as written: they name
 * the cdktf CLI package (pinned), the stack the app really synthesizes, and an output directory
 * the local-state path is computed from.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG, loadConfig } from '../../stacks/config';
import { fromStackDir, localStatePath } from '../../stacks/state-path';

const root = path.resolve(__dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');
const docs = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const packageJson = JSON.parse(read('package.json'));
const cdktfJson = JSON.parse(read('cdktf.json'));

/** Every `npx ...cdktf...` command in the docs, with the file it is in. */
const cdktfCommands = docs.flatMap((file) => [...read(file).matchAll(/npx (?:--yes )?(cdktf\S*) (\w+)(?: ([a-z<][\w<>-]*))?/g)].map((m) => ({ file, pkg: m[1], command: m[2], stack: m[3] })));

describe('documented deploy and rollback commands', () => {
  it('when the docs run cdktf, they run the CLI package pinned to the library\'s version, never the library (it has no executable)', () => {
    expect(cdktfCommands.length).toBeGreaterThanOrEqual(2);
    for (const { file, pkg } of cdktfCommands) {
      expect(`${file}: ${pkg}`).toBe(`${file}: cdktf-cli@${packageJson.dependencies.cdktf}`);
    }
    expect(cdktfCommands.map((c) => c.file)).toEqual(expect.arrayContaining(['README.md', 'docs/runbook.md']));
  });

  it('when the docs deploy a named stack, it is the stack main.ts synthesizes by default (the config name) or the <name> placeholder', () => {
    for (const { stack } of cdktfCommands.filter((c) => c.command === 'deploy' || c.command === 'diff')) {
      expect([DEFAULT_CONFIG.name, '<name>']).toContain(stack);
    }
  });

  it('when cdktf runs the app, cdktf.json runs main.ts with the pinned tsx and writes to cdktf.out, which the state path assumes', () => {
    expect(cdktfJson.app).toBe('npx tsx main.ts');
    expect(packageJson.devDependencies.tsx).toMatch(/^\d+\.\d+\.\d+$/);
    expect(cdktfJson.output ?? 'cdktf.out').toBe('cdktf.out');
    const stackDir = path.join(root, 'cdktf.out', 'stacks', DEFAULT_CONFIG.name);
    expect(path.resolve(stackDir, fromStackDir(localStatePath(DEFAULT_CONFIG.name, DEFAULT_CONFIG.backend)!))).toBe(path.join(root, 'terraform-state', 'spigot.tfstate'));
  });

  it('when the runbook rolls back with plain terraform, it synthesizes the checked-out release first and checks out a release tag', () => {
    const rollback = read('docs/runbook.md').split('### When rolling back a deploy')[1].split('\n## ')[0];
    expect(rollback).toMatch(/git tag --list 'v\*'/);
    expect(rollback).toMatch(/npm run synth && \(cd cdktf\.out\/stacks\/spigot && terraform init -reconfigure && terraform apply\)/);
    expect(read('README.md')).toMatch(/Releases are annotated git tags `v<version>`/);
  });

  it('when a user starts from spigot.config.example.json, it is valid and shows the S3 backend, a custom domain and a chosen source policy', () => {
    const example = loadConfig(path.join(root, 'spigot.config.example.json'));
    expect(example.backend.type).toBe('s3');
    expect(example.allowedSources).toEqual(['github']);
    expect(example.domain?.certificateArn).toContain(`:acm:${example.region}:`);
  });

  it('when local state is used, its folder is git-ignored so no commit or checkout carries state around', () => {
    expect(read('.gitignore').split('\n')).toContain('terraform-state/');
  });
});
