/**
 * Architectures the exporters know, keyed by `config.json`'s `model_type`. Each one turns a Hugging Face config and
 * checkpoint into a backend-neutral IR graph; emitters (tools/export/tf/, tools/export/onnx/) never see the architecture.
 */
import type { IrGraph } from '../ir/graph.js';
import type { WeightSource } from '../safetensors.js';
import { BERT_IGNORED_WEIGHTS, buildBertForSequenceClassification, parseBertConfig } from './bert.architecture.js';
import {
  buildDistilBertForSequenceClassification,
  DISTILBERT_IGNORED_WEIGHTS,
  parseDistilBertConfig,
} from './distilbert.architecture.js';

export interface Architecture {
  /** `model_type` in config.json. */
  readonly modelType: string;
  /** Builds the graph; `configPath` is for error messages. */
  build(config: unknown, configPath: string, weights: WeightSource): IrGraph;
  /** Checkpoint entries the architecture may leave unread (buffers, heads it does not serve). */
  readonly ignoredWeights: readonly RegExp[];
}

export const ARCHITECTURES: ReadonlyMap<string, Architecture> = new Map([
  [
    'bert',
    {
      modelType: 'bert',
      build: (config, configPath, weights) =>
        buildBertForSequenceClassification(parseBertConfig(config, configPath), weights),
      ignoredWeights: BERT_IGNORED_WEIGHTS,
    },
  ],
  [
    'distilbert',
    {
      modelType: 'distilbert',
      build: (config, configPath, weights) =>
        buildDistilBertForSequenceClassification(parseDistilBertConfig(config, configPath), weights),
      ignoredWeights: DISTILBERT_IGNORED_WEIGHTS,
    },
  ],
]);

export function architectureFor(config: unknown, configPath: string): Architecture {
  const modelType =
    typeof config === 'object' && config !== null ? (config as Record<string, unknown>).model_type : undefined;
  const architecture = typeof modelType === 'string' ? ARCHITECTURES.get(modelType) : undefined;
  if (architecture === undefined) {
    throw new Error(
      `${configPath}: model_type ${JSON.stringify(modelType)} has no exporter (known: ${[...ARCHITECTURES.keys()].join(', ')})`,
    );
  }
  return architecture;
}
