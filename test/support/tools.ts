/**
 * The deployment tests that need real tools (a Docker engine, helm, kubectl) run where they are present and skip,
 * saying why, where they are not. CI sets DEPLOY_CHECKS=required (it brings the tools up first): there a missing
 * tool fails the suite instead of skipping it.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const DEPLOY_CHECKS_REQUIRED = process.env.DEPLOY_CHECKS === 'required';

/** The executable `command` on PATH, or undefined. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why Docker cannot be used here (no CLI, no engine answering), or undefined when it can. */
export function dockerUnavailable(): string | undefined {
  if (findOnPath('docker') === undefined) {
    return 'no docker CLI on PATH (../shared/tools/container-engine up installs one)';
  }
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'pipe', timeout: 15_000 });
    return undefined;
  } catch (error) {
    const { stderr, message } = error as { stderr?: Buffer; message: string };
    const detail = (stderr?.toString() || message).trim().split('\n')[0];
    return `the Docker engine does not answer (${detail}); start one and export DOCKER_HOST`;
  }
}

/**
 * `describe` when `missing` is undefined; otherwise the block is skipped and the reason printed, or, with
 * DEPLOY_CHECKS=required, replaced by one failing test that gives the reason.
 */
export function describeWhere(missing: string | undefined, name: string, body: () => void): void {
  if (missing === undefined) {
    describe(name, body);
  } else if (DEPLOY_CHECKS_REQUIRED) {
    describe(name, () => {
      it('should run (DEPLOY_CHECKS=required)', () => {
        throw new Error(`cannot run: ${missing}`);
      });
    });
  } else {
    console.log(`skipping "${name}": ${missing}`);
    describe.skip(`${name} (skipped: ${missing})`, body);
  }
}
