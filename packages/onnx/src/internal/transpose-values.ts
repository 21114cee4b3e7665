/**
 * `values` of row-major `shape`, with its axes permuted by `perm` (as tf.transpose / numpy):
 * output axis i is input axis perm[i]. Used to write parameters in ONNX's layouts.
 */
export function transposeValues(
  values: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
): Float32Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const outShape = perm.map((p) => shape[p]);
  const outStrides = perm.map((p) => strides[p]);
  const out = new Float32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = values[source];
    for (let a = rank - 1; a >= 0; a--) {
      index[a]++;
      source += outStrides[a];
      if (index[a] < outShape[a]) break;
      source -= outStrides[a] * outShape[a];
      index[a] = 0;
    }
  }
  return out;
}
