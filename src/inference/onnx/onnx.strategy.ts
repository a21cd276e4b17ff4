import { basename } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { ModelNotReadyError } from '../../errors/index.js';
import {
  type BertTokenizer,
  type Logits,
  MODEL_BUNDLE,
  type ModelBundle,
  onnxFile,
  TOKENIZER,
  type TokenizedBatch,
} from '../../model/index.js';
import type { InferenceStrategy, ServedModel, StrategyState } from '../inference-strategy.interface.js';
import { IdleInlineRunner } from './onnx-idle-inline.js';
import { planOnnxExecution } from './onnx-threading.js';
import { type OnnxRunner, OnnxWorkerPool } from './onnx-worker-pool.js';

/**
 * Sentences run once on every ONNX Runtime session before the strategy reports ready, so no real request pays a
 * session's lazy initialisation.
 */
const WARM_UP_SENTENCES = ['warm up', 'a slightly longer sentence to warm up the model before it takes traffic .'];

/**
 * v1: the model's ONNX export, run in-process by ONNX Runtime. Loads in the background after the HTTP server
 * starts, so liveness answers at once and readiness turns green only after a real warm-up inference.
 */
@Injectable()
export class OnnxStrategy implements InferenceStrategy, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OnnxStrategy.name);
  private session: OnnxRunner | null = null;
  private current: StrategyState = { status: 'loading' };
  private loading: Promise<void> | null = null;

  constructor(
    @Inject(MODEL_BUNDLE) private readonly bundle: ModelBundle,
    @Inject(TOKENIZER) private readonly tokenizer: BertTokenizer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.loading = this.load();
  }

  /** Resolves once loading has finished, successfully or not. */
  async settled(): Promise<StrategyState> {
    await this.loading;
    return this.current;
  }

  get model(): ServedModel {
    if (this.session === null) {
      throw new ModelNotReadyError(this.bundle.name);
    }
    return {
      name: this.bundle.name,
      version: this.bundle.version,
      backend: 'onnxruntime',
      inputs: [...this.session.inputNames],
      precision: this.config.onnx.precision,
    };
  }

  state(): StrategyState {
    return this.current;
  }

  checkHealth(): Promise<StrategyState> {
    return Promise.resolve(this.current);
  }

  async infer(batch: TokenizedBatch): Promise<Logits> {
    if (this.session === null || this.current.status !== 'ready') {
      throw new ModelNotReadyError(this.bundle.name);
    }
    return this.session.run(batch);
  }

  private async load(): Promise<void> {
    const started = performance.now();
    // ONNX Runtime (1.30) otherwise keeps a device id and a telemetry event database under ~/.cache and collects
    // events. Its native code reads this from the process environment, so it is set on the main thread, before any
    // session or worker exists; an explicit ORT_DISABLE_TELEMETRY in the environment wins.
    process.env.ORT_DISABLE_TELEMETRY ??= '1';
    const file = onnxFile(this.bundle, this.config.onnx.precision);
    try {
      const plan = planOnnxExecution(this.config, file);
      const { workers, intraOpThreads: threads } = plan;
      this.logger.log({
        msg: 'execution plan',
        workers,
        intraOpThreads: threads,
        idleInline: plan.idleInline,
        file,
        modelMiB: Math.round(plan.modelBytes / 2 ** 20),
        estimatedMiB: Math.round(plan.estimatedBytes / 2 ** 20),
        memoryLimitMiB: plan.memoryLimitBytes === null ? null : Math.round(plan.memoryLimitBytes / 2 ** 20),
        ...(plan.reducedFor ? { reducedFor: plan.reducedFor } : {}),
      });
      const options = {
        intraOpNumThreads: threads,
        interOpNumThreads: this.config.onnx.interOpThreads,
        memoryArena: this.config.onnx.memoryArena,
      };
      // Imported only where the main thread runs a session (inline execution, or the idle path beside the workers).
      const mainThreadSession = async (intraOpNumThreads: number) =>
        (await import('./onnx-session.js')).OnnxSession.create(file, { ...options, intraOpNumThreads });
      const session: OnnxRunner =
        workers === 0 ? await mainThreadSession(threads) : await OnnxWorkerPool.create(file, workers, options);
      const labels = this.bundle.config.labels.length;
      if (session.numLabels !== null && session.numLabels !== labels) {
        await session.release();
        throw new Error(
          `${basename(file)} has ${session.numLabels} outputs per sentence but config.json names ${labels} labels`,
        );
      }
      const logits = await session.warmUp(await this.tokenizer.encodeBatch(WARM_UP_SENTENCES));
      if (logits.rows !== WARM_UP_SENTENCES.length || logits.columns !== labels) {
        await session.release();
        throw new Error(
          `warm-up returned ${logits.rows}x${logits.columns} logits, expected ${WARM_UP_SENTENCES.length}x${labels}`,
        );
      }
      this.session = session;
      this.current = { status: 'ready' };
      this.logger.log({
        msg: 'model ready',
        model: this.bundle.name,
        version: this.bundle.version,
        precision: this.config.onnx.precision,
        inputs: session.inputNames,
        workers,
        intraOpThreads: threads,
        loadMs: Math.round(performance.now() - started),
      });
      if (plan.idleInline) {
        // After ready, so that it never delays readiness (about 0.1 s of a 2 s cold start on the bundled model).
        await this.addIdleSession(session, () => mainThreadSession(1));
      }
    } catch (error) {
      const reason = (error as Error).message;
      this.current = { status: 'failed', reason };
      this.logger.error({ msg: 'model failed to load', model: this.bundle.name, file, reason });
    }
  }

  /**
   * The main thread's idle session beside the pool (onnx-idle-inline.ts), once it has warmed up. Without it the pool
   * serves every request, so a failure here is logged, not fatal.
   */
  private async addIdleSession(pool: OnnxRunner, create: () => Promise<OnnxRunner>): Promise<void> {
    try {
      const inline = await create();
      await inline.warmUp(await this.tokenizer.encodeBatch(WARM_UP_SENTENCES));
      if (this.session === pool) {
        this.session = new IdleInlineRunner(pool, inline);
        this.logger.log({ msg: 'idle session ready', model: this.bundle.name });
      } else {
        await inline.release();
      }
    } catch (error) {
      this.logger.warn({ msg: 'idle session not loaded', model: this.bundle.name, reason: (error as Error).message });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loading;
    const session = this.session;
    this.session = null;
    this.current = { status: 'loading' };
    await session?.release();
  }
}
