/** Raw ONNX Runtime on a model folder: the ceiling the service is compared with (bench/run.ts, bench/large-model.ts). */
import { usableCpus } from '../../src/system/cpu-quota.js';
import { OnnxSession } from '../../src/inference/onnx/onnx-session.js';
import { type OnnxRunner, OnnxWorkerPool } from '../../src/inference/onnx/onnx-worker-pool.js';
import { BertTokenizer } from '../../src/model/bert.tokenizer.js';
import { loadModelBundle, type ModelPrecision, onnxFile } from '../../src/model/model-bundle.js';
import { SENTENCES } from './sentences.js';

export interface CeilingRow {
  readonly layout: string;
  readonly batchSize: number;
  readonly sentencesPerSecond: number;
}

/**
 * Raw ONNX Runtime (the model's own ceiling): sentences/s by batch size, no HTTP, with batches of sentences of
 * similar length (what the service's length grouping aims at), in two layouts: one session using every usable CPU
 * as intra-op threads, and one session per CPU in worker threads with one thread each, one batch in flight each.
 */
export async function onnxCeiling(
  modelDir: string,
  secondsPerRow = 3,
  precision: ModelPrecision = 'fp32',
): Promise<CeilingRow[]> {
  const bundle = loadModelBundle(modelDir);
  const file = onnxFile(bundle, precision);
  const tokenizer = BertTokenizer.fromFile(bundle.files.tokenizer, bundle.config.maxLength);
  const cpus = usableCpus();
  const sorted = [...SENTENCES].sort((a, b) => a.length - b.length);
  const layouts: [string, number, () => Promise<OnnxRunner>][] = [
    [
      `1 session × ${cpus} threads`,
      1,
      () => OnnxSession.create(file, { intraOpNumThreads: cpus, interOpNumThreads: 1 }),
    ],
    [
      `${cpus} worker sessions × 1 thread`,
      cpus,
      () => OnnxWorkerPool.create(file, cpus, { intraOpNumThreads: 1, interOpNumThreads: 1 }),
    ],
  ];
  const rows: CeilingRow[] = [];
  for (const [layout, inFlight, open] of layouts) {
    const runner = await open();
    try {
      for (const batchSize of [1, 8, 16, 32, 64]) {
        const batches = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            tokenizer.encodeBatch(
              Array.from(
                { length: batchSize },
                (__, j) =>
                  sorted[Math.floor(((i * batchSize + j) * sorted.length) / (12 * batchSize)) % sorted.length]!,
              ),
            ),
          ),
        );
        for (const batch of batches) {
          await runner.run(batch);
        }
        let sentences = 0;
        let next = 0;
        const started = performance.now();
        const lane = async () => {
          while (performance.now() - started < secondsPerRow * 1000) {
            await runner.run(batches[next++ % batches.length]!);
            sentences += batchSize;
          }
        };
        await Promise.all(Array.from({ length: inFlight }, lane));
        rows.push({ layout, batchSize, sentencesPerSecond: sentences / ((performance.now() - started) / 1000) });
      }
    } finally {
      await runner.release();
    }
  }
  return rows;
}
