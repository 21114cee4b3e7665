// Run by built-package.test.ts with plain `node` (argument: esm or cjs): the built
// @convkit/onnx exports a small net, loads onnxruntime-node by itself and predicts.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const kind = process.argv[2];
const load = (name) => (kind === 'cjs' ? require(name) : import(name));
const onnx = await load('@convkit/onnx');
const tf = await load('@tensorflow/tfjs-core');
const layers = await load('@convkit/layers');
await load('@tensorflow/tfjs-backend-cpu');
await tf.setBackend('cpu');
tf.backend().firstUse = false;
const model = new layers.Sequential(
  new layers.Conv2d({ inChannels: 3, outChannels: 2, kernelSize: 3 }),
  new layers.Flatten(),
  new layers.Linear({ inFeatures: 2 * 3 * 4, outFeatures: 4 }),
).eval();
const bytes = await onnx.exportOnnx(model, { inputShape: [1, 5, 6, 3] });
const engine = await onnx.createOnnxSession(bytes);
const x = tf.randomUniform([2, 5, 6, 3], -1, 1, 'float32', 1);
const actual = await engine.predict(x);
const expected = model.forward(x);
const maxAbs = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0];
await engine.dispose();
console.log(JSON.stringify({ ops: onnx.readOnnxModel(bytes).ops, shape: actual.shape, maxAbs }));
