/**
 * Where local Terraform state lives, as the project and as Terraform (running in the stack's
 * directory) see it. No cdktf here: the CLI reads it too.
 */
import path from 'node:path';
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
