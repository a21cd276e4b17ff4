import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../common/sst2.js';

const ASSIGNMENT = /^[A-Z_]+=/;

/**
 * package.json's `start:prod`, how production runs the service (the Dockerfile's ENV and CMD are tested against
 * it): the environment settings before `node`, then the command, `node <V8 flags> dist/main.js`.
 */
export function productionCommand(): { env: Record<string, string>; command: string[] } {
  const pkg = JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = pkg.scripts['start:prod']!.split(' ');
  return {
    env: Object.fromEntries(
      words.filter((word) => ASSIGNMENT.test(word)).map((word) => word.split('=') as [string, string]),
    ),
    command: words.filter((word) => !ASSIGNMENT.test(word)),
  };
}
