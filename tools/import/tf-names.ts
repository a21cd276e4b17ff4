/**
 * TensorFlow (Keras) variable → PyTorch parameter, as transformers' `convert_tf_weight_name_to_pt_weight_name` and
 * `apply_transpose` do it (shared/reference/hf-checkpoints.md §2.8):
 *
 *   tf_bert_for_sequence_classification/bert/encoder/layer_._0/attention/self/query/kernel:0   [in, out]
 *   → bert.encoder.layer.0.attention.self.query.weight                                          [out, in]
 *
 * Keras Dense kernels are stored `[in, out]` (`y = x·K + b`), PyTorch Linear weights `[out, in]` (`y = x·Wᵀ + b`), so
 * every rank-2 kernel is transposed. Embedding tables and LayerNorm vectors keep their layout. Kernels of the
 * EinsumDense period of TF BERT (transformers 4.2: query/key/value `[H, heads, head_dim]`, attention output
 * `[heads, head_dim, H]`, biases `[heads, head_dim]`) are first reshaped row-major to the Dense layout, as the
 * transformers loader does.
 */

/** What PyTorch calls the last component of a Keras variable name. */
const RENAMED: Readonly<Record<string, string>> = {
  kernel: 'weight',
  embeddings: 'weight',
  gamma: 'weight',
  beta: 'bias',
};

/** Variable name without its `:0` output index. */
function variablePath(tfName: string): string {
  return tfName.replace(/:\d+$/, '');
}

/**
 * The PyTorch parameter name of a TF variable name. `hasModelName`: the first `/` component is the Keras model's
 * own name (`tf_bert_for_sequence_classification`, `..._1`), as in `tf_model.h5`; TF-format safetensors files
 * store names without it.
 */
export function pyTorchName(tfName: string, hasModelName = true): string {
  const parts = variablePath(tfName)
    .replace(/\/[^/]*___([^/]*)\//g, '/$1/')
    .replace(/_\._/g, '/')
    .split('/')
    .filter((part) => part !== '');
  if (hasModelName && parts.length > 1) {
    parts.shift();
  }
  const last = parts.length - 1;
  parts[last] = RENAMED[parts[last] as string] ?? (parts[last] as string);
  return parts.join('.');
}

export interface Float32Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Row-major `[rows, columns]` → `[columns, rows]`. */
export function transpose2d(data: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const from = r * columns;
    for (let c = 0; c < columns; c++) {
      out[c * rows + r] = data[from + c] as number;
    }
  }
  return out;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * The tensor in PyTorch layout: rank-2 kernels transposed, EinsumDense kernels and biases flattened to the Dense
 * layout first. `where` names the variable in errors. `transposed` tells whether the values were reordered.
 */
export function toPyTorchLayout(
  tfName: string,
  tensor: Float32Tensor,
  where: string,
): Float32Tensor & { transposed: boolean } {
  const path = variablePath(tfName);
  const leaf = path.slice(path.lastIndexOf('/') + 1);
  const { shape, data } = tensor;
  if (leaf === 'kernel') {
    let matrix = shape;
    if (shape.length === 3) {
      const [a, b, c] = shape as [number, number, number];
      if (/\/attention\/self\/[^/]+\/kernel$/.test(path)) {
        matrix = [a, b * c];
      } else if (/\/attention\/output\/dense\/kernel$/.test(path)) {
        matrix = [a * b, c];
      } else {
        throw new Error(
          `${where}: rank-3 kernel ${formatShape(shape)} is not an attention kernel of TF BERT; not supported`,
        );
      }
    } else if (shape.length !== 2) {
      throw new Error(
        `${where}: kernel of rank ${shape.length} ${formatShape(shape)}; only Dense kernels (rank 2) are supported`,
      );
    }
    const [rows, columns] = matrix as [number, number];
    return { shape: [columns, rows], data: transpose2d(data, rows, columns), transposed: true };
  }
  if (leaf === 'bias' && shape.length === 2 && /\/attention\/self\/[^/]+\/bias$/.test(path)) {
    return { shape: [data.length], data, transposed: false };
  }
  return { shape, data, transposed: false };
}
