/**
 * Where Terraform keeps this stack's state. The S3 backend is the path for any real deployment;
 * local state is for trying Spigot out, kept outside cdktf.out (which every synth rewrites and
 * CI deletes), and every plan or apply that uses it warns.
 */
import path from 'node:path';
import { LocalBackend, S3Backend, TerraformLocal, TerraformStack } from 'cdktf';
import type { BackendConfig } from './config';

/** Project-relative folder for local state; git-ignored, and no synth or clean touches it. */
export const LOCAL_STATE_DIR = 'terraform-state';

/** Terraform runs in cdktf.out/stacks/<name>: three levels below the project root. */
const STACK_DIR_TO_PROJECT = '../../..';

/** The local state file as the project sees it (relative to the project root, or absolute). */
export function localStatePath(stack: string, backend: BackendConfig): string | undefined {
  if (backend.type !== 'local') return undefined;
  return backend.path ?? `${LOCAL_STATE_DIR}/${stack}.tfstate`;
}

/** The same file as Terraform sees it from the stack's own directory. */
export const fromStackDir = (projectPath: string): string =>
  path.isAbsolute(projectPath) ? projectPath : path.posix.join(STACK_DIR_TO_PROJECT, projectPath);

export const localStateWarning = (file: string): string =>
  `Terraform state for this stack is the local file ${file}: lose it and Terraform forgets every resource it created ` +
  '(the next apply then fails on names that already exist). For anything but a trial, set "backend": ' +
  '{"type": "s3", "bucket", "key", "region"} in spigot.config.json (README "Terraform state").';

export function configureBackend(stack: TerraformStack, name: string, backend: BackendConfig): void {
  if (backend.type === 's3') {
    const { bucket, key, region, dynamodbTable } = backend;
    new S3Backend(stack, { bucket, key, region, encrypt: true, dynamodbTable });
    return;
  }
  const file = localStatePath(name, backend)!;
  new LocalBackend(stack, { path: fromStackDir(file) });
  // A check block only warns, on every plan and apply, in cdktf and plain terraform alike.
  const kind = new TerraformLocal(stack, 'state-backend', 'local');
  kind.overrideLogicalId('spigot_state_backend');
  stack.addOverride('check.spigot_state_backend.assert', [{ condition: `\${local.spigot_state_backend != "local"}`, error_message: localStateWarning(file) }]);
}
