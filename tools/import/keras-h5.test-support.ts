/**
 * Test support: writes PyTorch-named weights as the `tf_model.h5` TFBertForSequenceClassification.save_pretrained
 * would (Keras 2 legacy layout, shared/reference/hf-checkpoints.md §2.2, §2.4): PyTorch → TF names, Linear weights
 * transposed to Keras `[in, out]` kernels, one group per top-level layer, a weightless Dropout group. Options cover
 * the variants a reader meets: fixed-length name strings (h5py 2), chunked name attributes (long lists), a whole-model
 * file (`/model_weights`), a suffixed model name and EinsumDense-period attention kernels.
 */
import h5wasm, { type Group } from 'h5wasm/node';
import { transpose2d } from './tf-names.js';

export type PyTorchWeights = Readonly<
  Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>
>;

export interface KerasH5Options {
  /** Keras model name, the first component of every variable name. */
  readonly modelName?: string;
  /** Name lists as fixed-length strings (h5py 2) instead of variable-length ones (h5py 3). */
  readonly fixedLengthStrings?: boolean;
  /** Split every name list into `<name>0`, `<name>1` attributes, as Keras does past 64 KiB. */
  readonly chunkAttributes?: boolean;
  /** Put the layers under `/model_weights`, as a whole-model `model.save(...h5)` does. */
  readonly modelWeightsGroup?: boolean;
  /** Store BERT attention kernels and biases per head (transformers 4.2's EinsumDense), with this many heads. */
  readonly einsumHeads?: number;
}

const NORMS = /(^|\.)(LayerNorm|sa_layer_norm|output_layer_norm)$/;

/** The Keras variable path (without model name and `:0`) of a PyTorch parameter, and whether it is a Dense kernel. */
export function kerasVariable(ptName: string): { path: string; kernel: boolean } {
  const parts = ptName
    .split('.')
    .flatMap((part, i, all) =>
      part === 'layer' && /^\d+$/.test(all[i + 1] ?? '')
        ? []
        : all[i - 1] === 'layer' && /^\d+$/.test(part)
          ? [`layer_._${part}`]
          : [part],
    );
  const leaf = parts.pop() as string;
  const parent = parts.join('.');
  let tfLeaf = leaf;
  let kernel = false;
  if (NORMS.test(parent)) {
    tfLeaf = leaf === 'weight' ? 'gamma' : 'beta';
  } else if (leaf === 'weight' && parent.endsWith('_embeddings')) {
    tfLeaf = parent.endsWith('word_embeddings') ? 'weight' : 'embeddings';
  } else if (leaf === 'weight') {
    tfLeaf = 'kernel';
    kernel = true;
  }
  return { path: [...parts, tfLeaf].join('/'), kernel };
}

function nameAttribute(group: Group, name: string, values: string[], options: KerasH5Options): void {
  const dtype = options.fixedLengthStrings ? `S${Math.max(1, ...values.map((value) => value.length))}` : null;
  if (values.length === 0) {
    group.create_attribute(name, new Float64Array(0), [0]);
  } else if (options.chunkAttributes && values.length > 1) {
    const half = Math.ceil(values.length / 2);
    group.create_attribute(`${name}0`, values.slice(0, half), null, dtype);
    group.create_attribute(`${name}1`, values.slice(half), null, dtype);
  } else {
    group.create_attribute(name, values, null, dtype);
  }
}

function ensureGroup(parent: Group, path: string[]): Group {
  let group = parent;
  for (const part of path) {
    const existing = group.get(part);
    group = existing instanceof h5wasm.Group ? existing : group.create_group(part);
  }
  return group;
}

/** Keras layout of one tensor: kernels transposed (and split per head in EinsumDense mode). */
function kerasTensor(
  path: string,
  kernel: boolean,
  tensor: PyTorchWeights[string],
  heads: number | undefined,
): { shape: number[]; data: Float32Array } {
  let shape = [...tensor.shape];
  let data = tensor.data;
  if (kernel) {
    const [out, inFeatures] = shape as [number, number];
    data = transpose2d(data, out, inFeatures);
    shape = [inFeatures, out];
  }
  if (heads !== undefined) {
    if (/attention\/self\/\w+\/kernel$/.test(path)) {
      shape = [shape[0] as number, heads, (shape[1] as number) / heads];
    } else if (/attention\/self\/\w+\/bias$/.test(path)) {
      shape = [heads, (shape[0] as number) / heads];
    } else if (/attention\/output\/dense\/kernel$/.test(path)) {
      shape = [heads, (shape[0] as number) / heads, shape[1] as number];
    }
  }
  return { shape, data };
}

export async function writeKerasH5(path: string, weights: PyTorchWeights, options: KerasH5Options = {}): Promise<void> {
  await h5wasm.ready;
  const modelName = options.modelName ?? 'tf_bert_for_sequence_classification';
  const file = new h5wasm.File(path, 'w');
  try {
    const root = options.modelWeightsGroup ? file.create_group('model_weights') : file;
    const byLayer = new Map<string, string[]>();
    for (const [ptName, tensor] of Object.entries(weights)) {
      const { path: variable, kernel } = kerasVariable(ptName);
      const layer = variable.split('/')[0] as string;
      const fullName = `${modelName}/${variable}:0`;
      byLayer.set(layer, [...(byLayer.get(layer) ?? []), fullName]);
      const group = ensureGroup(root, [layer, ...fullName.split('/').slice(0, -1)]);
      const { shape, data } = kerasTensor(variable, kernel, tensor, options.einsumHeads);
      group.create_dataset({ name: fullName.split('/').at(-1) as string, data, shape });
    }
    const layers = [...byLayer.keys()];
    layers.splice(1, 0, 'dropout_37');
    nameAttribute(root, 'layer_names', layers, options);
    root.create_attribute('backend', 'tensorflow');
    root.create_attribute('keras_version', '2.15.0');
    for (const layer of layers) {
      nameAttribute(ensureGroup(root, [layer]), 'weight_names', byLayer.get(layer) ?? [], options);
    }
  } finally {
    file.close();
  }
}
