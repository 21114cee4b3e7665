// Trains a small conv net (conv -> relu -> max-pool -> depthwise conv -> relu -> avg-pool ->
// dense) for a few SGD steps on the backend `convkit.selectBackend` picks, and compares the first
// step's gradients with the cpu backend's. Shared by the ESM and CJS entry checks; prints JSON.
async function run(tf, convkit) {
  const report = await convkit.selectBackend();
  const random = new convkit.RandomSource(7);
  const shapes = { conv: [3, 3, 2, 4], depthwise: [3, 3, 4, 2], dense: [2 * 2 * 8, 3] };
  const init = Object.fromEntries(
    Object.entries(shapes).map(([k, s]) => [k, random.normalArray(s.reduce((a, b) => a * b), 0, 0.3)]),
  );
  const x = random.normalArray(4 * 8 * 8 * 2);
  const labels = [0, 2, 1, 2];

  function gradients() {
    return tf.tidy(() => {
      const w = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, tf.tensor(init[k], s)]));
      const input = tf.tensor(x, [4, 8, 8, 2]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
      const loss = (conv, depthwise, dense) => {
        let h = tf.relu(tf.conv2d(input, conv, 1, 'same'));
        h = tf.maxPool(h, 2, 2, 'valid');
        h = tf.relu(tf.depthwiseConv2d(h, depthwise, 1, 'same'));
        h = tf.avgPool(h, 2, 2, 'valid');
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(h.reshape([4, -1]), dense));
      };
      const { value, grads } = tf.valueAndGrads(loss)([w.conv, w.depthwise, w.dense]);
      return { loss: value.dataSync()[0], grads: grads.map((g) => Array.from(g.dataSync())) };
    });
  }

  const before = tf.memory().numTensors;
  const chosen = gradients();
  const leaked = tf.memory().numTensors - before;
  await convkit.selectBackend({ backend: 'cpu' });
  const reference = gradients();

  // allclose per gradient tensor: |v - r| <= 1e-5 * |r| + 1e-6 * max(1, max|r|); `worstRatio` is
  // the largest |v - r| over that bound (<= 1 passes). Summation order differs between XNNPACK
  // and the cpu backend, so elements near zero need the absolute term.
  let worstRatio = 0;
  let worstAbs = 0;
  chosen.grads.forEach((g, i) => {
    const ref = reference.grads[i];
    const scale = Math.max(1, ...ref.map(Math.abs));
    g.forEach((v, j) => {
      const diff = Math.abs(v - ref[j]);
      worstAbs = Math.max(worstAbs, diff);
      worstRatio = Math.max(worstRatio, diff / (1e-5 * Math.abs(ref[j]) + 1e-6 * scale));
    });
  });
  return {
    backend: report.backend,
    canTrainConvNets: report.capabilities.canTrainConvNets,
    loss: chosen.loss,
    referenceLoss: reference.loss,
    worstRatio,
    worstAbs,
    leaked,
  };
}
module.exports = { run };
