// Every zoo family exported to ONNX and run in onnxruntime-node equals convkit's logits (eval
// mode) within 1e-4, at odd input sizes where the architecture allows. Widths and inputs are
// small; AlexNet's and VGG's 4096-wide classifiers are replaced by one Linear (their features,
// pooling and flatten are what the export maps).
import { Dropout, Linear, Sequential } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import {
  type AnyZooModel,
  alexnetOriginal,
  cifarResnet20,
  googlenet,
  lenet5,
  lenet5Original,
  mobilenetV2,
  resnet18,
  resnet50,
  seResnet18,
  squeezenet1_0,
  squeezenet1_1,
  unet,
  vgg11Bn,
  type ZooModel,
} from '@convkit/zoo';
import { beforeAll, describe, expect, it } from 'vitest';
import { onnxParity, randomizeBatchNorms } from './__fixtures__/parity';
import { readOnnxModel } from './read-onnx-model';

const TOLERANCE = 1e-4;

/** Replace a 4096-wide classifier by Dropout + one Linear to 10 classes. */
function smallClassifier<M extends ZooModel & { classifier: Sequential }>(
  model: M,
  features: number,
): M {
  model.classifier.dispose();
  model.classifier = new Sequential(
    new Dropout(),
    new Linear({ inFeatures: features, outFeatures: 10 }),
  );
  return model;
}

const CASES: [string, () => AnyZooModel, number[]][] = [
  ['lenet5', () => lenet5({ initWeights: false }), [2, 28, 28, 1]],
  [
    'lenet5Original (tanh, average pools)',
    () => lenet5Original({ initWeights: false }),
    [2, 28, 28, 1],
  ],
  [
    'alexnetOriginal (two towers, LRN)',
    () => smallClassifier(alexnetOriginal({ groups: 2, initWeights: false }), 256 * 6 * 6),
    [1, 67, 71, 3],
  ],
  ['vgg11Bn', () => smallClassifier(vgg11Bn({ initWeights: false }), 512 * 7 * 7), [1, 33, 37, 3]],
  [
    'googlenet (transformInput, auxiliary heads skipped)',
    () => googlenet({ numClasses: 10, transformInput: true, initWeights: false }),
    [1, 33, 37, 3],
  ],
  ['resnet18', () => resnet18({ numClasses: 10, initWeights: false }), [2, 33, 37, 3]],
  ['resnet50 (bottleneck)', () => resnet50({ numClasses: 10, initWeights: false }), [1, 33, 37, 3]],
  ['seResnet18', () => seResnet18({ numClasses: 10, initWeights: false }), [1, 33, 37, 3]],
  [
    'mobilenetV2 (width 0.5)',
    () => mobilenetV2({ numClasses: 10, widthMult: 0.5, initWeights: false }),
    [2, 33, 37, 3],
  ],
  ['squeezenet1_0', () => squeezenet1_0({ numClasses: 10, initWeights: false }), [1, 33, 37, 3]],
  ['squeezenet1_1', () => squeezenet1_1({ numClasses: 10, initWeights: false }), [2, 33, 37, 3]],
  ['unet (depth 2)', () => unet({ depth: 2, baseChannels: 8, initWeights: false }), [2, 20, 28, 3]],
  [
    'unet (depth 3, BatchNorm)',
    () => unet({ depth: 3, baseChannels: 8, batchNorm: true, numClasses: 3, initWeights: false }),
    [1, 24, 40, 3],
  ],
  ['cifarResnet20 (shortcut A)', () => cifarResnet20({ initWeights: false }), [2, 33, 37, 3]],
  [
    'cifarResnet20 (shortcut B)',
    () => cifarResnet20({ shortcut: 'B', initWeights: false }),
    [1, 33, 37, 3],
  ],
];

describe('zoo models in onnxruntime equal convkit', () => {
  beforeAll(() => useBackend('wasm'));

  for (const [name, build, shape] of CASES) {
    it(name, async () => {
      const model = build();
      try {
        randomizeBatchNorms(model);
        const kept = await onnxParity(model, shape);
        const folded = await onnxParity(model, shape, { foldBatchNorm: true });
        console.log(
          `onnx parity ${name} [${shape}]: max-abs ${kept.maxAbs.toExponential(2)} kept, ${folded.maxAbs.toExponential(2)} folded (|logits| <= ${kept.scale.toFixed(2)})`,
        );
        expect(kept.maxAbs).toBeLessThan(TOLERANCE);
        expect(folded.maxAbs).toBeLessThan(TOLERANCE);
        const hasNorm = model.namedModules().some(([, m]) => m.constructor.name === 'BatchNorm2d');
        expect(readOnnxModel(kept.bytes).ops.BatchNormalization !== undefined).toBe(hasNorm);
        expect(readOnnxModel(folded.bytes).ops.BatchNormalization).toBeUndefined();
      } finally {
        model.dispose();
      }
    });
  }
});
