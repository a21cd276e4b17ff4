/**
 * Reads the weights of a `tf_model.h5`, the file `TF*ForSequenceClassification.save_pretrained` writes with Keras 2's
 * legacy HDF5 weights writer (shared/reference/hf-checkpoints.md §2.2):
 *
 *   /                        attr layer_names = [top-level layer names]       (or chunks layer_names0, layer_names1, ...)
 *     /<layer>               attr weight_names = [full variable names]         (or chunks; float64 [] when no weights)
 *       /<full variable name, "/" nesting groups>   float32 dataset, C order, the Keras shape
 *
 * e.g. `/bert/tf_bert_for_sequence_classification/bert/embeddings/word_embeddings/weight:0`. The HDF5 C library
 * (h5wasm, compiled to WebAssembly) does the reading, so every superblock, group and string layout h5py ever wrote is
 * understood. A whole-model file (`model.save(...h5)`) keeps the same layout under `/model_weights`.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import h5wasm, { type Dataset, type Group } from 'h5wasm/node';

export interface KerasWeight {
  /** Full Keras variable name, e.g. `tf_bert_for_sequence_classification/classifier/kernel:0`. */
  readonly name: string;
  /** HDF5 path of its dataset, for messages. */
  readonly dataset: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** HDF5 format signature; the superblock is at offset 0, 512, 1024, 2048, ... (after an optional user block). */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether the file has an HDF5 superblock (checked here: the C library prints its error stack for non-HDF5 files). */
function isHdf5(path: string): boolean {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(HDF5_SIGNATURE.length);
    for (let offset = 0; offset + buffer.length <= size; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, buffer, 0, buffer.length, offset);
      if (buffer.equals(HDF5_SIGNATURE)) {
        return true;
      }
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * A Keras list-of-names attribute: `<name>`, or the chunks `<name>0`, `<name>1`, ... that Keras writes when the list
 * exceeds the 64 KiB object header. Strings may be variable- or fixed-length (h5py 3 vs 2); an empty float64 array
 * means no names. Undefined when the attribute is absent.
 */
function nameList(entity: Group, attribute: string): string[] | undefined {
  const attributes = entity.attrs;
  const chunks: string[] = [];
  if (attribute in attributes) {
    chunks.push(attribute);
  } else {
    for (let i = 0; `${attribute}${i}` in attributes; i++) {
      chunks.push(`${attribute}${i}`);
    }
  }
  if (chunks.length === 0) {
    return undefined;
  }
  return chunks.flatMap((chunk) => {
    const value = entity.get_attribute(chunk, false);
    const values = Array.isArray(value)
      ? value
      : ArrayBuffer.isView(value)
        ? Array.from(value as ArrayLike<unknown>)
        : [value];
    return values.map((item) => {
      if (typeof item !== 'string') {
        throw new Error(`attribute "${chunk}" of ${entity.path} holds ${typeof item} values, not strings`);
      }
      return item;
    });
  });
}

function float32Values(dataset: Dataset, where: string): Float32Array {
  const { type, size, littleEndian } = dataset.metadata;
  // H5T_FLOAT = 1 in h5wasm's metadata.
  if (type !== 1 || (size !== 4 && size !== 8) || !littleEndian) {
    throw new Error(
      `${where}: dtype ${JSON.stringify(dataset.dtype)} is not a little-endian float32 or float64 dataset; only float weights are supported`,
    );
  }
  const value = dataset.value;
  if (value instanceof Float32Array) {
    return value;
  }
  if (value instanceof Float64Array) {
    return Float32Array.from(value);
  }
  throw new Error(`${where}: could not be read as floats`);
}

/** Every weight the file's `layer_names` / `weight_names` list, in that order. Errors name the file and the entry. */
export async function readKerasH5Weights(path: string): Promise<KerasWeight[]> {
  if (!isHdf5(path)) {
    throw new Error(`${path}: not an HDF5 file (no HDF5 signature)`);
  }
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'r');
  try {
    const modelWeights = file.get('model_weights');
    const root = modelWeights instanceof h5wasm.Group ? modelWeights : file;
    const layers = nameList(root, 'layer_names');
    if (layers === undefined) {
      throw new Error(
        `${path}: no "layer_names" attribute at ${root.path}: not a Keras 2 HDF5 weights file as save_pretrained writes it (Keras 3 ".weights.h5" files are not supported)`,
      );
    }
    const weights: KerasWeight[] = [];
    const seen = new Set<string>();
    for (const layer of layers) {
      const group = root.get(layer);
      if (!(group instanceof h5wasm.Group)) {
        throw new Error(
          `${path}: layer "${layer}" is listed in layer_names but ${root.path} has no group of that name`,
        );
      }
      const names = nameList(group, 'weight_names');
      if (names === undefined) {
        throw new Error(`${path}: group ${group.path} has no "weight_names" attribute`);
      }
      for (const name of names) {
        const dataset = group.get(name);
        const where = `${path}: dataset ${group.path}/${name}`;
        if (!(dataset instanceof h5wasm.Dataset)) {
          throw new Error(`${where}: listed in weight_names of ${group.path} but missing`);
        }
        if (seen.has(name)) {
          throw new Error(`${where}: weight "${name}" appears twice`);
        }
        seen.add(name);
        weights.push({ name, dataset: dataset.path, shape: dataset.shape ?? [], data: float32Values(dataset, where) });
      }
    }
    return weights;
  } finally {
    file.close();
  }
}
