/**
 * The only file that imports onnxruntime-node. Everything else talks to ONNX Runtime through `OnnxSession`.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { ModelTensors } from '../../model/tokenized-batch.js';
import type { Logits } from '../../model/logits.js';
import { MODEL_INPUT_NAMES, type ModelInputName, inputValues, isModelInputName } from '../model-inputs.js';

export interface OnnxSessionOptions {
  /** Threads inside one operator (ONNX Runtime's intra-op pool). */
  readonly intraOpNumThreads: number;
  /** Threads across independent operators (inter-op pool; used only in parallel execution mode). */
  readonly interOpNumThreads: number;
  /**
   * ONNX Runtime's CPU memory arena: keeps freed buffers for reuse (faster allocations) but holds on to the largest
   * batch's memory for the life of the session. Default on.
   */
  readonly memoryArena?: boolean;
  /**
   * Writes the graph ONNX Runtime runs, after its optimizations (fused LayerNormalization, BiasGelu, ...), to this
   * file: what the export tests check, and a way to see what a given model.onnx turns into.
   */
  readonly optimizedModelPath?: string;
}

interface ModelInput {
  readonly name: ModelInputName;
  readonly type: 'int64' | 'int32';
}

/** Whether this platform stores numbers little-endian (x86-64 and ARM64 do). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * int32 values widened to int64 without a BigInt per value: each int64 is written as its two 32-bit halves (the value,
 * then its sign), little-endian. Converting through BigInt took about 8 µs of a 0.6 ms single request
 * (docs/performance.md, "Per-request trims").
 */
export function toInt64(values: Int32Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  if (!LITTLE_ENDIAN) {
    values.forEach((value, i) => (out[i] = BigInt(value)));
    return out;
  }
  const halves = new Int32Array(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    halves[2 * i] = value;
    halves[2 * i + 1] = value >> 31;
  }
  return out;
}

export class OnnxSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputs: readonly ModelInput[],
    private readonly outputName: string,
    readonly numLabels: number | null,
  ) {}

  /** The inputs the model declares, in its order (a DistilBERT export has no `token_type_ids`). */
  get inputNames(): ModelInputName[] {
    return this.inputs.map((input) => input.name);
  }

  /**
   * Loads the model and checks its interface against what the tokenizer produces: every declared input must be
   * one of `input_ids`, `attention_mask`, `token_type_ids` with an integer type and rank 2, `input_ids` must be
   * among them, and there must be a float `logits` output (or exactly one float output) of rank 2.
   */
  static async create(modelPath: string, options: OnnxSessionOptions): Promise<OnnxSession> {
    // A missing or unreadable file fails here with the path in the message. ONNX Runtime then reads the file itself:
    // no copy of the model's bytes in JavaScript (on a BERT-base, 363 MB: peak RSS of a session 919 → 585 MB).
    await access(modelPath, constants.R_OK);
    const session = await ort.InferenceSession.create(modelPath, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: options.intraOpNumThreads,
      interOpNumThreads: options.interOpNumThreads,
      enableCpuMemArena: options.memoryArena ?? true,
      // Memory patterns are planned and cached per input shape; with a new [batch, sequence] shape on nearly every
      // call they only grow memory (measured: bench/, docs/benchmarks.md).
      enableMemPattern: false,
      ...(options.optimizedModelPath === undefined ? {} : { optimizedModelFilePath: options.optimizedModelPath }),
    });
    try {
      return OnnxSession.check(session, modelPath);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  private static check(session: ort.InferenceSession, modelPath: string): OnnxSession {
    const inputs: ModelInput[] = [];
    for (const meta of session.inputMetadata) {
      if (!isModelInputName(meta.name)) {
        throw new Error(
          `${modelPath}: unsupported model input "${meta.name}" (supported: ${MODEL_INPUT_NAMES.join(', ')})`,
        );
      }
      if (!meta.isTensor || (meta.type !== 'int64' && meta.type !== 'int32') || meta.shape.length !== 2) {
        const got = meta.isTensor ? `${meta.type} [${meta.shape.join(', ')}]` : 'a non-tensor value';
        throw new Error(`${modelPath}: input "${meta.name}" must be an int64 or int32 tensor of rank 2, got ${got}`);
      }
      inputs.push({ name: meta.name, type: meta.type });
    }
    if (!inputs.some((input) => input.name === 'input_ids')) {
      throw new Error(`${modelPath}: the model declares no "input_ids" input`);
    }
    const floatOutputs = session.outputMetadata.filter((meta) => meta.isTensor && meta.type === 'float32');
    const output =
      floatOutputs.find((meta) => meta.name === 'logits') ?? (floatOutputs.length === 1 ? floatOutputs[0] : undefined);
    if (output === undefined || !output.isTensor || output.shape.length !== 2) {
      throw new Error(`${modelPath}: expected a float32 "logits" output of shape [batch, labels]`);
    }
    const labels = output.shape[1];
    return new OnnxSession(session, inputs, output.name, typeof labels === 'number' ? labels : null);
  }

  /** Runs one padded batch and returns its logits, `[batchSize, numLabels]` row-major. */
  async run(batch: ModelTensors): Promise<Logits> {
    const dims = [batch.batchSize, batch.sequenceLength];
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.inputs) {
      feeds[input.name] = OnnxSession.tensor(input.type, inputValues(batch, input.name), dims);
    }
    const result = await this.session.run(feeds, [this.outputName]);
    const logits = result[this.outputName];
    if (logits === undefined || !(logits.data instanceof Float32Array) || logits.dims.length !== 2) {
      throw new Error(`ONNX Runtime returned no float32 [batch, labels] "${this.outputName}"`);
    }
    return { data: logits.data, rows: logits.dims[0] ?? 0, columns: logits.dims[1] ?? 0 };
  }

  private static tensor(type: ModelInput['type'], values: Int32Array, dims: number[]): ort.Tensor {
    if (type === 'int32') {
      return new ort.Tensor('int32', values, dims);
    }
    return new ort.Tensor('int64', toInt64(values), dims);
  }

  /** One session: the warm-up is one run. */
  warmUp(batch: ModelTensors): Promise<Logits> {
    return this.run(batch);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
