import { execFileSync } from 'node:child_process';
import { URL, fileURLToPath } from 'node:url';

/**
 * The e2e tier's global setup: compiles dist/ once (tsc, tsconfig.build.json: what `nest build` runs), for the suites
 * that start `node dist/main.js` as users do. Not `nest build` itself, which empties dist/ first.
 */
export default function buildOnce() {
  // Both projects that start the service name this setup; one compilation per jest run is enough.
  if (process.env.SENTIMENT_DIST_BUILT === '1') {
    return;
  }
  process.env.SENTIMENT_DIST_BUILT = '1';
  const root = fileURLToPath(new URL('../../', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
