/** A tensor as JSON: its shape and its values in row-major order. */
export interface SerializedTensor {
  shape: number[];
  data: number[];
}
