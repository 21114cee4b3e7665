import { measureLeaks } from '@convkit/backend';
import { summary } from '@convkit/layers';
import { useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { fixture, formulaValues, pytorchKeys } from './__fixtures__/harness';
import { alexnet } from './alexnet';
import { cifarResnet20 } from './cifar-resnet';
import { googlenet } from './googlenet';
import { lenet5 } from './lenet';
import { mobilenetV2 } from './mobilenet-v2';
import { loadPyTorchStateDict } from './pytorch-weights';
import { resnet18 } from './resnet';
import { unet } from './unet';

describe('zoo conventions', () => {
  beforeEach(() => useBackend('wasm'));

  it('the JS fill formula reproduces the values PyTorch was filled with, exactly', () => {
    const keys = fixture.models.resnet18.keys;
    for (const s of fixture.samples) {
      const k = keys.findIndex(([key]) => key === s.key);
      const values = formulaValues(s.key, k, keys[k][1], s.gain);
      expect(values[s.index], `${s.key}[${s.index}]`).toBe(s.value);
    }
    expect(fixture.samples.length).toBeGreaterThan(20);
  });

  it('forward is forwardHead(forwardFeatures(x)), and leaks no tensors', async () => {
    const model = resnet18({ numClasses: 10 }).eval();
    const x = tf.randomNormal([2, 64, 64, 3]);
    const leaks = await measureLeaks(() => tf.dispose(model.forward(x)));
    expect(leaks.leakedTensors).toBe(0);
    const training = await measureLeaks(() => tf.dispose(model.train().forward(x)));
    expect(training.leakedTensors).toBe(0);
    model.eval();
    const a = tf.tidy(() => model.forward(x));
    const features = model.forwardFeatures(x);
    expect(features.shape).toEqual([2, 2, 2, 512]);
    expect(model.featureShape([2, 64, 64, 3])).toEqual([2, 2, 2, 512]);
    const b = model.forwardHead(features);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([x, a, b, features]);
    model.dispose();
  });

  it('a too small input is refused with the minimum size named; wrong channels named', () => {
    const model = alexnet({ numClasses: 10, initWeights: false });
    expect(model.minInputSize).toBe(63);
    expect(() => model.outputShape([1, 62, 200, 3])).toThrow(
      /input 62x200 is too small; alexnet needs at least 63x63/,
    );
    expect(() => model.forward(tf.zeros([1, 32, 32, 3]))).toThrow(/needs at least 63x63/);
    expect(() => model.outputShape([1, 224, 224, 1])).toThrow(
      /expected an NHWC input \[N, H, W, 3\], received shape \[1,224,224,1\]/,
    );
    expect(model.outputShape([1, 63, 63, 3])).toEqual([1, 10]);
    model.dispose();
    const net = unet({ depth: 3, baseChannels: 4, initWeights: false });
    expect(net.minInputSize).toBe(8);
    expect(() => net.outputShape([1, 4, 4, 3])).toThrow(/needs at least 8x8/);
    expect(() => net.outputShape([1, 20, 24, 3])).toThrow(/multiples of 8/);
    expect(net.outputShape([1, 24, 40, 3])).toEqual([1, 24, 40, 2]);
    net.dispose();
  });

  it('loadStateDict reports missing, unexpected and mis-shaped keys together', () => {
    const model = cifarResnet20();
    const state = { ...model.stateDict() };
    delete state['layer1.0.conv1.weight'];
    state['layer9.weight'] = tf.zeros([1]);
    state['fc.bias'] = tf.zeros([11]);
    const message = (() => {
      try {
        model.loadStateDict(state);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/3 problem\(s\)/);
    expect(message).toMatch(/fc\.bias: expected shape \[10\], received \[11\]/);
    expect(message).toMatch(/missing key layer1\.0\.conv1\.weight/);
    expect(message).toMatch(/unexpected key layer9\.weight/);
    tf.dispose([state['layer9.weight'], state['fc.bias']]);
    model.dispose();
  });

  it('loadPyTorchStateDict converts layouts and reports every problem at once', async () => {
    await useBackend('cpu');
    const model = lenet5();
    const state: Record<string, tf.Tensor> = {};
    for (const [k, [key, shape]] of pytorchKeys(model).entries()) {
      state[key] = tf.tensor(formulaValues(key, k, shape, 1), shape);
    }
    loadPyTorchStateDict(model, state);
    // The first conv: PyTorch [6, 1, 5, 5] -> convkit [5, 5, 1, 6]: weight[o][0][i][j] lands at [i][j][0][o].
    const w = model.stateDict()['features.0.weight'];
    expect(w.shape).toEqual([5, 5, 1, 6]);
    const pt = (await state['features.0.weight'].array()) as number[][][][];
    const ck = (await w.array()) as number[][][][];
    expect(ck[2][3][0][4]).toBe(pt[4][0][2][3]);
    // classifier.0 follows a flatten of [16, 5, 5]: PyTorch column c*25 + h*5 + w -> row h*80 + w*16 + c.
    const fcPt = (await state['classifier.0.weight'].array()) as number[][];
    const fc = (await model.stateDict()['classifier.0.weight'].array()) as number[][];
    expect(fc[2 * 80 + 3 * 16 + 7][11]).toBe(fcPt[11][7 * 25 + 2 * 5 + 3]);

    const bad = { ...state };
    delete bad['features.3.bias'];
    bad['features.9.weight'] = tf.zeros([1]);
    bad['classifier.4.weight'] = tf.zeros([10, 85]);
    expect(() => loadPyTorchStateDict(model, bad)).toThrow(
      /3 problem\(s\):[\s\S]*classifier\.4\.weight[\s\S]*missing key features\.3\.bias[\s\S]*unexpected key features\.9\.weight/,
    );
    expect(
      loadPyTorchStateDict(model, { ...state, extra: tf.zeros([1]) }, { strict: false }),
    ).toEqual({
      missingKeys: [],
      unexpectedKeys: ['extra'],
    });
    tf.dispose([...Object.values(state), bad['features.9.weight'], bad['classifier.4.weight']]);
    model.dispose();
  });

  it('GoogLeNet: { logits, aux } in training, the logits in eval; transformInput', async () => {
    const model = googlenet({ numClasses: 5 });
    const x = tf.randomUniform([2, 64, 64, 3]);
    model.train();
    const out = tf.tidy(() => model.forward(x));
    if (out instanceof tf.Tensor) throw new Error('expected { logits, aux } in training');
    expect(out.logits.shape).toEqual([2, 5]);
    expect(out.aux.map((t) => t.shape)).toEqual([
      [2, 5],
      [2, 5],
    ]);
    tf.dispose([out.logits, ...out.aux]);
    model.eval();
    const logits = tf.tidy(() => model.forward(x));
    if (!(logits instanceof tf.Tensor)) throw new Error('expected the logits in eval');
    expect(logits.shape).toEqual([2, 5]);

    const transformed = googlenet({ numClasses: 5, transformInput: true, auxLogits: false }).eval();
    transformed.loadStateDict(
      Object.fromEntries(Object.entries(model.stateDict()).filter(([k]) => !k.startsWith('aux'))),
    );
    const manual = tf.tidy(() =>
      model.forward(
        tf.add(tf.mul(x, [0.229 / 0.5, 0.224 / 0.5, 0.225 / 0.5]), [
          (0.485 - 0.5) / 0.5,
          (0.456 - 0.5) / 0.5,
          (0.406 - 0.5) / 0.5,
        ]),
      ),
    );
    const viaOption = tf.tidy(() => transformed.forward(x));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(manual, viaOption))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-5);
    expect(() => googlenet({ inChannels: 1, transformInput: true })).toThrow(/transformInput/);
    tf.dispose([x, logits, manual, viaOption]);
    model.dispose();
    transformed.dispose();
  });

  it('summary works on zoo models and counts torchvision parameters', () => {
    const model = mobilenetV2({ initWeights: false });
    const s = summary(model, [1, 224, 224, 3]);
    expect(s.trainableParams).toBe(3_504_872);
    expect(s.rows.find((r) => r.path === 'features.18.0')?.outputShape).toEqual([1, 7, 7, 1280]);
    model.dispose();
  });

  it('zeroInitResidual zeroes the last BatchNorm scale of every block; info is frozen', async () => {
    const model = resnet18({ numClasses: 10, zeroInitResidual: true });
    const state = model.stateDict();
    expect(Array.from(await state['layer3.1.bn2.weight'].data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await state['layer3.1.bn1.weight'].data()).every((v) => v === 1)).toBe(true);
    expect(Object.isFrozen(model.info)).toBe(true);
    expect(Object.isFrozen(model.info.mean)).toBe(true);
    expect(() => (model.info.featureInfo[0] as { channels: number }).channels++).toThrow();
    model.dispose();
  });

  it('factories validate their options, echoing the value', () => {
    expect(() => resnet18({ numClasses: 0 })).toThrow(
      /numClasses to be a positive integer, received 0/,
    );
    expect(() => mobilenetV2({ widthMult: -1 })).toThrow(/widthMult .* received -1/);
    expect(() => cifarResnet20({ shortcut: 'C' as 'A' })).toThrow(
      /shortcut to be one of "A", "B", received "C"/,
    );
    expect(() => lenet5({ activation: 'gelu' as 'relu' })).toThrow(/activation/);
    expect(() => alexnet({ dropout: 1.5 })).toThrow(
      /dropout to be a number in \[0, 1\), received 1.5/,
    );
  });
});
