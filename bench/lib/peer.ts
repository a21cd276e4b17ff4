/** The peer the benchmarks compare with: a transformers.js text-classification server on the same model files. */
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { externalDataPath } from '../../src/model/model-bundle.js';
import { type Running, start } from './processes.js';
import { NODE } from './service.js';

const PEER_SERVER = 'bench/servers/transformers-js.server.ts';

/** Weights the peer loads: transformers.js' `fp32` (onnx/model.onnx) or `q8` (onnx/model_quantized.onnx). */
export type PeerDtype = 'fp32' | 'q8';

/**
 * A transformers.js model folder under `dir` made of links to a version folder: config and tokenizer files,
 * onnx/model.onnx and, where the version has one, onnx/model_quantized.onnx → model.int8.onnx.
 */
export function transformersJsFolder(versionDir: string, dir: string): string {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const file of [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'vocab.txt',
  ]) {
    if (existsSync(join(versionDir, file))) {
      symlinkSync(join(versionDir, file), join(dir, file));
    }
  }
  symlinkSync(join(versionDir, 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
  if (existsSync(join(versionDir, 'model.int8.onnx'))) {
    symlinkSync(join(versionDir, 'model.int8.onnx'), join(dir, 'onnx', 'model_quantized.onnx'));
  }
  // transformers.js hands ONNX Runtime the model's path; ONNX Runtime finds a large model's weights beside it under
  // the name the model file records (model.onnx_data, model.int8.onnx_data).
  for (const file of ['model.onnx', 'model.int8.onnx'].map(externalDataPath)) {
    if (existsSync(join(versionDir, file))) {
      symlinkSync(join(versionDir, file), join(dir, 'onnx', file));
    }
  }
  return dir;
}

/** The peer server on `folder`, ready once it prints "ready"; `nodeFlags` go before the script (`--cpu-prof`). */
export function startPeer(
  name: string,
  folder: string,
  dtype: PeerDtype = 'fp32',
  nodeFlags: readonly string[] = [],
): Promise<Running> {
  return start(
    name,
    NODE,
    [...nodeFlags, '--import', 'tsx', PEER_SERVER],
    { MODEL_PATH: folder, MODEL_DTYPE: dtype },
    null,
  );
}
