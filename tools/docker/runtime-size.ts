/**
 * `npm run image:size`: what the Dockerfile's runtime stage would contain, reproduced without Docker, for
 * linux/amd64 and linux/arm64: `npm ci --omit=dev`, the same prune script, the compiled dist/ and models/ (as
 * .dockerignore lets them through). Prints the sizes and writes docs/image-size.md and docs/image-size.json.
 * Where a Docker engine answers, it also builds the image from the Dockerfile (`docker build --network host`) and
 * records its real size (`docker image inspect`), split into the base image and the layers the project adds; without
 * one, the last recorded figures are kept and marked with their date.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../common/sst2.js';
import { readVersions } from '../release/sync-versions.js';

function size(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) {
    return 0;
  }
  if (!stat.isDirectory()) {
    return stat.size;
  }
  return readdirSync(path).reduce((sum, entry) => sum + size(join(path, entry)), 0);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function packages(nodeModules: string): [string, number][] {
  const out: [string, number][] = [];
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) {
      continue;
    }
    if (entry.startsWith('@')) {
      for (const scoped of readdirSync(join(nodeModules, entry))) {
        out.push([`${entry}/${scoped}`, size(join(nodeModules, entry, scoped))]);
      }
    } else {
      out.push([entry, size(join(nodeModules, entry))]);
    }
  }
  return out.sort((a, b) => b[1] - a[1]);
}

/** Starts the stage's `node dist/main.js` on its own node_modules and returns what v1 answered. */
function smokeTest(work: string, nodeModules: string): string {
  rmSync(join(work, 'node_modules'), { recursive: true, force: true });
  cpSync(nodeModules, join(work, 'node_modules'), { recursive: true });
  cpSync(resolve(REPO_ROOT, 'models'), join(work, 'models'), { recursive: true });
  const script = `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['dist/main.js'], { env: { PATH: process.env.PATH, PORT: '5097', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }, stdio: 'ignore' });
    const ask = async () => {
      for (let i = 0; i < 100; i++) {
        try {
          const ready = await fetch('http://127.0.0.1:5097/health/ready');
          if (ready.ok) {
            const res = await fetch('http://127.0.0.1:5097/v1/inference/sentiment_analysis', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"sentence": "this is a bad example"}' });
            return res.status + ' ' + (await res.text());
          }
        } catch {}
        await new Promise((r) => setTimeout(r, 100));
      }
      return 'not ready after 10 s';
    };
    ask().then((answer) => { console.log(answer); child.kill('SIGTERM'); });`;
  return execFileSync(process.execPath, ['-e', script], { cwd: work, encoding: 'utf8' }).trim();
}

interface BuiltImage {
  readonly date: string;
  readonly tag: string;
  readonly totalBytes: number;
  readonly baseImage: string;
  readonly baseBytes: number;
  readonly ownBytes: number;
  /** The runtime stage's own layers, largest first: [Dockerfile instruction, bytes]. */
  readonly layers: [string, number][];
}

const docker = (...args: string[]): string =>
  execFileSync('docker', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** Builds the image and measures it, or returns undefined where no Docker engine answers. */
function measureImage(): BuiltImage | undefined {
  try {
    docker('version', '--format', '{{.Server.Version}}');
  } catch {
    return undefined;
  }
  const { app: version, nodeImage } = readVersions();
  const tag = `sentiment-analysis:${version}`;
  docker('build', '--network', 'host', '-t', tag, '.');
  const totalBytes = Number(docker('image', 'inspect', '--format', '{{.Size}}', tag));
  const baseBytes = Number(docker('image', 'inspect', '--format', '{{.Size}}', nodeImage));
  const baseLayers = docker('history', '--no-trunc', '--format', '{{.ID}}', nodeImage).split('\n').length;
  const history = docker('history', '--no-trunc', '--format', '{{.Size}}\t{{.CreatedBy}}', '--human=false', tag)
    .split('\n')
    .slice(0, -baseLayers)
    .map((line) => line.split('\t') as [string, string])
    .map(([bytes, createdBy]): [string, number] => [
      createdBy
        .replace(/^\/bin\/sh -c (#\(nop\) )?/, '')
        .replace(/\s+/g, ' ')
        .slice(0, 80),
      Number(bytes),
    ])
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1]);
  return {
    date: new Date().toISOString(),
    tag,
    totalBytes,
    baseImage: nodeImage,
    baseBytes,
    ownBytes: totalBytes - baseBytes,
    layers: history,
  };
}

function imageSection(image: BuiltImage | undefined): string {
  if (image === undefined) {
    return '## The built image\n\nNot measured: no Docker engine answered when this was written.\n';
  }
  return `## The built image

\`docker build --network host -t ${image.tag} .\` on ${image.date.slice(0, 10)}, then
\`docker image inspect\` (uncompressed size on disk; a registry stores it compressed):

| | size |
|---|---|
| base image \`${image.baseImage}\` | ${mb(image.baseBytes)} |
| what the project adds (runtime stage layers) | ${mb(image.ownBytes)} |
| **image** | **${mb(image.totalBytes)}** |

The project's layers: ${image.layers.map(([what, bytes]) => `\`${what}\` ${mb(bytes)}`).join(', ')}.
Where the engine builds the base image locally (no registry reachable, as on the CI machines), its size is that
build's, not Docker Hub's.
`;
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'runtime-stage-'));
  try {
    for (const file of ['package.json', 'package-lock.json', '.npmrc', 'tools/package.json']) {
      cpSync(resolve(REPO_ROOT, file), join(work, file));
    }
    execFileSync('npm', ['ci', '--omit=dev', '--workspaces=false', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: work,
      stdio: 'ignore',
    });
    const unpruned = size(join(work, 'node_modules'));
    execFileSync(
      process.execPath,
      [
        resolve(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(work, 'dist'),
      ],
      {
        cwd: REPO_ROOT,
      },
    );
    const dist = size(join(work, 'dist'));
    const modelsDir = resolve(REPO_ROOT, 'models');
    const models =
      size(modelsDir) - size(join(modelsDir, 'sentiment_analysis', readVersions().model, 'training-report.json'));
    const rows: { arch: string; nodeModules: number; total: number; top: [string, number][] }[] = [];
    for (const arch of ['x64', 'arm64']) {
      const copy = join(work, `node_modules-${arch}`);
      cpSync(join(work, 'node_modules'), copy, { recursive: true });
      execFileSync(process.execPath, [resolve(REPO_ROOT, 'tools/docker/prune-node-modules.mjs'), copy, arch], {
        stdio: 'ignore',
      });
      const nodeModules = size(copy);
      rows.push({
        arch,
        nodeModules,
        total: nodeModules + dist + models + size(join(work, 'package.json')),
        top: packages(copy).slice(0, 8),
      });
    }
    // The pruned runtime must still serve: start it from the stage's files and ask the README's question.
    const smoke = smokeTest(work, join(work, `node_modules-${process.arch === 'arm64' ? 'arm64' : 'x64'}`));
    const previous = JSON.parse(readFileSync(resolve(REPO_ROOT, 'docs/image-size.json'), 'utf8')) as {
      image?: BuiltImage;
    };
    const image = measureImage() ?? previous.image;
    const result = { date: new Date().toISOString(), unprunedNodeModules: unpruned, dist, models, rows, smoke, image };
    writeFileSync(resolve(REPO_ROOT, 'docs/image-size.json'), `${JSON.stringify(result, null, 2)}\n`);
    const md = `# Runtime image size

Measured by \`npm run image:size\` (tools/docker/runtime-size.ts) on ${result.date.slice(0, 10)}: the file set the Dockerfile's
runtime stage copies, reproduced without Docker (production install, the same prune script, dist/, models/).
The base image (\`${readVersions().nodeImage}\`) comes on top of it.

| | linux/amd64 | linux/arm64 |
|---|---|---|
| node_modules (production, unpruned: ${mb(unpruned)}) | ${mb(rows[0]!.nodeModules)} | ${mb(rows[1]!.nodeModules)} |
| dist/ | ${mb(dist)} | ${mb(dist)} |
| models/ (ONNX, safetensors, SavedModel, tokenizer) | ${mb(models)} | ${mb(models)} |
| **runtime content** | **${mb(rows[0]!.total)}** | **${mb(rows[1]!.total)}** |

Smoke test of the pruned ${process.arch} file set (\`node dist/main.js\`, then the README's curl example): ${smoke}.

Target: under 250 MB of runtime content. Largest packages after pruning (amd64):
${rows[0]!.top.map(([name, bytes]) => `\`${name}\` ${mb(bytes)}`).join(', ')}.

${imageSection(image)}`;
    writeFileSync(resolve(REPO_ROOT, 'docs/image-size.md'), md);
    console.log(md);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
