#!/usr/bin/env node
/**
 * Removes from a production node_modules what a linux/<arch> glibc container never loads: native binaries of
 * other platforms (onnxruntime-node ships macOS, Windows and both Linux architectures; tokenizers ships 13
 * platforms), source maps, TypeScript declarations and docs. Used by the Dockerfile and by
 * tools/docker/runtime-size.ts, so the measured size is the image's.
 *
 * Usage: node tools/docker/prune-node-modules.mjs <node_modules> <x64|arm64>
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [root, arch] = process.argv.slice(2);
if (!root || !['x64', 'arm64'].includes(arch ?? '')) {
  console.error('usage: prune-node-modules.mjs <node_modules> <x64|arm64>');
  process.exit(2);
}

let removed = 0;
function remove(path) {
  try {
    removed += size(path);
    rmSync(path, { recursive: true, force: true });
  } catch {
    // already gone
  }
}
function size(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    return stat.size;
  }
  return readdirSync(path).reduce((sum, entry) => sum + size(join(path, entry)), 0);
}

// onnxruntime-node: keep bin/napi-v*/linux/<arch> only.
const ortBin = join(root, 'onnxruntime-node', 'bin');
for (const napi of safeList(ortBin)) {
  for (const platform of safeList(join(ortBin, napi))) {
    if (platform !== 'linux') {
      remove(join(ortBin, napi, platform));
      continue;
    }
    for (const cpu of safeList(join(ortBin, napi, platform))) {
      if (cpu !== arch) {
        remove(join(ortBin, napi, platform, cpu));
      }
    }
  }
}

// tokenizers: keep tokenizers.linux-<arch>-gnu.node only.
const keepTokenizers = `tokenizers.linux-${arch}-gnu.node`;
for (const file of safeList(join(root, 'tokenizers'))) {
  if (file.endsWith('.node') && file !== keepTokenizers) {
    remove(join(root, 'tokenizers', file));
  }
}

// TypeScript arrives only as @nestjs/swagger's peer dependency, for its compile-time CLI plugin; the running
// service never loads it (runtime-size.ts starts the pruned service to prove it).
remove(join(root, 'typescript'));

// Files no running program reads.
const DEAD = [/\.map$/, /\.d\.ts$/, /\.d\.mts$/, /\.d\.cts$/, /^(README|CHANGELOG|HISTORY)(\.md|\.markdown|\.txt)?$/i];
(function walk(dir) {
  for (const entry of safeList(dir)) {
    const path = join(dir, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) {
      continue;
    }
    if (stat.isDirectory()) {
      walk(path);
    } else if (DEAD.some((pattern) => pattern.test(entry))) {
      remove(path);
    }
  }
})(root);

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

console.log(`pruned ${(removed / 1e6).toFixed(1)} MB from ${root} for linux/${arch}`);
