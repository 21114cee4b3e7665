/**
 * The Q factor of a tall matrix (m >= n, row-major, float64) by Householder reflections,
 * with each column multiplied by the sign of R's diagonal, as torch.nn.init.orthogonal_ does:
 * that makes Q the unique factor with a positive diagonal R, whatever reflection convention
 * computed it. Returns Q, m x n row-major.
 */
export function signCorrectedQ(a: Float64Array, m: number, n: number): Float64Array {
  const r = Float64Array.from(a);
  const vs: Float64Array[] = [];
  const diag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += r[i * n + k] * r[i * n + k];
    norm = Math.sqrt(norm);
    const x0 = r[k * n + k];
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = r[i * n + k];
    v[0] -= alpha;
    let vnorm = 0;
    for (let i = 0; i < v.length; i++) vnorm += v[i] * v[i];
    vnorm = Math.sqrt(vnorm);
    if (vnorm > 0) for (let i = 0; i < v.length; i++) v[i] /= vnorm;
    vs.push(v);
    // R[k:, k:] -= 2 v (v^T R[k:, k:])
    for (let j = k; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k] * r[i * n + j];
      for (let i = k; i < m; i++) r[i * n + j] -= 2 * v[i - k] * dot;
    }
    diag[k] = r[k * n + k];
  }
  // Q = H_0 H_1 ... H_{n-1} [I_n; 0]
  const q = new Float64Array(m * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k] * q[i * n + j];
      for (let i = k; i < m; i++) q[i * n + j] -= 2 * v[i - k] * dot;
    }
  }
  for (let j = 0; j < n; j++) {
    if (diag[j] < 0) for (let i = 0; i < m; i++) q[i * n + j] = -q[i * n + j];
  }
  return q;
}

/**
 * torch.nn.init.orthogonal_'s construction on a rows x cols matrix (row-major): QR of the
 * matrix (transposed first when wide), Q sign-corrected, transposed back, times `gain`.
 */
export function orthogonalFromMatrix(
  a: ArrayLike<number>,
  rows: number,
  cols: number,
  gain: number,
): Float64Array {
  const wide = rows < cols;
  const m = wide ? cols : rows;
  const n = wide ? rows : cols;
  const tall = new Float64Array(m * n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (wide) tall[j * n + i] = a[i * cols + j];
      else tall[i * n + j] = a[i * cols + j];
    }
  }
  const q = signCorrectedQ(tall, m, n);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (wide ? q[j * n + i] : q[i * n + j]);
  }
  return out;
}
