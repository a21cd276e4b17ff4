/** Raw model scores: `rows` × `columns` float32, row-major (one row per sentence, one column per label). */
export interface Logits {
  readonly data: Float32Array;
  readonly rows: number;
  readonly columns: number;
}
