// Child process for the kill-during-save test (bundled with esbuild, run with plain node):
// saves checkpoints of a ~8 MB model plus its ~8 MB of momentum state in a loop, setting every
// weight to the epoch number first, and prints `begin <epoch>` / `saved <epoch>` around each save.
import { selectBackend } from '@convkit/backend';
import { Linear, Sequential } from '@convkit/layers';
import { SGD } from '@convkit/optimizers';
import * as tf from '@tensorflow/tfjs-core';
import { saveCheckpoint } from '../checkpoint';

const dir = process.argv[2];
await selectBackend({ backend: 'cpu' });
const model = new Sequential(
  new Linear({ inFeatures: 1024, outFeatures: 1536 }),
  new Linear({ inFeatures: 1536, outFeatures: 64 }),
);
const optimizer = new SGD(model.trainableVariables(), { lr: 0.1, momentum: 0.9 });
tf.tidy(() => {
  optimizer.step(Object.fromEntries(model.trainableVariables().map((v) => [v.name, tf.onesLike(v)])));
});
for (let epoch = 1; ; epoch++) {
  for (const v of Object.values(model.stateDict()) as tf.Variable[]) {
    tf.tidy(() => v.assign(tf.fill(v.shape, epoch)));
  }
  process.stdout.write(`begin ${epoch}\n`);
  await saveCheckpoint(dir, { model, optimizer, epoch });
  process.stdout.write(`saved ${epoch}\n`);
}
