// Child process for the kill-during-save test (bundled with esbuild, run with plain node): saves a
// ~8 MB model directory (eight 1 MB shards) in a loop, every weight set to the round number, and
// prints `begin <round>` / `saved <round>` around each save.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { saveModelDirectory } from '../node/model-directory';

const dir = process.argv[2];
tf.registerBackend('cpu', () => new MathBackendCPU());
await tf.setBackend('cpu');
for (let round = 1; ; round++) {
  const tensors: Record<string, tf.Tensor> = {};
  for (let i = 0; i < 8; i++) tensors[`layer${i}.weight`] = tf.fill([256, 1024], round);
  process.stdout.write(`begin ${round}\n`);
  await saveModelDirectory(dir, tensors, { shardBytes: 1024 * 1024 });
  process.stdout.write(`saved ${round}\n`);
  tf.dispose(Object.values(tensors));
}
