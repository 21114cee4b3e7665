import { manualSeed, measureLeaks } from '@convkit/backend';
import { Linear } from '@convkit/layers';
import { crossEntropy } from '@convkit/losses';
import { Adam, ReduceLROnPlateau, SGD, StepLR } from '@convkit/optimizers';
import { assertAllClose, useBackend } from '@convkit/tooling/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyLoader, tinyCnn, toyBatches, weightsOf } from './__fixtures__/toy';
import type { BatchLogs, Callback, EpochLogs } from './callback';
import { EarlyStopping } from './early-stopping';
import { evaluate } from './evaluate';
import { fit } from './fit';
import { predict } from './predict';
import { ReduceLROnPlateauCallback } from './reduce-lr-on-plateau-callback';
import { TerminateOnNaN } from './terminate-on-nan';
import type { Batch, ModelOutput, TrainableModel } from './types';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Records batch losses and the tensor count after each epoch. */
class Recorder implements Callback {
  readonly order = 50; // after the other callbacks (EarlyStopping's first snapshot)
  losses: number[] = [];
  tensorsAfterEpoch: number[] = [];
  lrs: number[] = [];
  onBatchEnd(logs: BatchLogs) {
    this.losses.push(logs.loss);
  }
  onEpochEnd(logs: EpochLogs) {
    this.tensorsAfterEpoch.push(tf.memory().numTensors);
    this.lrs.push(logs.lr);
  }
}

describe('fit', () => {
  it('trains a CNN (loss falls, accuracy rises) with validation, and evaluate agrees', async () => {
    manualSeed(0);
    const model = tinyCnn();
    const data = new ToyLoader({ n: 192, batchSize: 32, seed: 1, shuffle: true });
    const val = new ToyLoader({ n: 96, batchSize: 48, seed: 2 });
    const optimizer = new Adam(model.trainableVariables(), { lr: 0.01 });
    const result = await fit(model, {
      data,
      optimizer,
      epochs: 5,
      metrics: ['accuracy', 'top2Accuracy'],
      validationData: val,
    });
    expect(result.stopReason).toBe('completed');
    expect(result.epochsRun).toBe(5);
    const [first, last] = [result.history[0], result.history[4]];
    expect(last.loss).toBeLessThan(first.loss * 0.6);
    expect(last.metrics.accuracy).toBeGreaterThan(0.85);
    expect(last.metrics.top2Accuracy).toBeGreaterThanOrEqual(last.metrics.accuracy);
    expect(last.valMetrics!.accuracy).toBeGreaterThan(0.8);
    expect(last.samples).toBe(192);
    expect(last.batches).toBe(6);
    expect(model.training).toBe(true);

    const evaluated = await evaluate(model, new ToyLoader({ n: 96, batchSize: 48, seed: 2 }), {
      metrics: ['accuracy'],
    });
    expect(evaluated.loss).toBeCloseTo(last.valLoss!, 6);
    expect(evaluated.metrics.accuracy).toBe(last.valMetrics!.accuracy);
    expect(evaluated.samples).toBe(96);
    optimizer.dispose();
    model.dispose();
  });

  it('keeps the tensor count the same after every epoch, and leaks nothing overall', async () => {
    manualSeed(1);
    const model = tinyCnn();
    const optimizer = new SGD(model.trainableVariables(), { lr: 0.05, momentum: 0.9 });
    const schedule = new StepLR(optimizer, { stepSize: 1, gamma: 0.9 });
    const data = new ToyLoader({ n: 64, batchSize: 16, seed: 3, shuffle: true, noise: 0.05 });
    const val = toyBatches(32, 16, 4);
    await fit(model, { data, optimizer, epochs: 1 }); // warm up kernels and optimizer state
    const recorder = new Recorder();
    const { leakedTensors } = await measureLeaks(() =>
      fit(model, {
        data,
        optimizer,
        schedule,
        epochs: 5,
        metrics: ['accuracy'],
        validationData: val,
        accumulateSteps: 2,
        classWeight: [1, 2, 1],
        callbacks: [
          recorder,
          new EarlyStopping({ monitor: 'val_loss', patience: 10, restoreBestWeights: true }),
          new ReduceLROnPlateauCallback(new ReduceLROnPlateau(optimizer, { patience: 1 })),
          new TerminateOnNaN(),
        ],
      }),
    );
    expect(leakedTensors).toBe(0);
    expect(new Set(recorder.tensorsAfterEpoch).size).toBe(1);
    tf.dispose(val.flatMap((b) => [b.x, b.y]));
    optimizer.dispose();
    model.dispose();
  });

  it('accumulates N micro-batches into one step equal to one N times larger batch', async () => {
    const run = async (batchSize: number, accumulateSteps: number, n: number) => {
      manualSeed(5);
      const model = tinyCnn();
      const optimizer = new SGD(model.trainableVariables(), { lr: 0.1, momentum: 0.9 });
      const data = toyBatches(n, batchSize, 6);
      const losses: number[] = [];
      await fit(model, {
        data,
        optimizer,
        epochs: 3,
        accumulateSteps,
        callbacks: [{ onBatchEnd: (l: BatchLogs) => void losses.push(l.loss) }],
      });
      const w = weightsOf(model);
      tf.dispose(data.flatMap((b) => [b.x, b.y]));
      optimizer.dispose();
      model.dispose();
      return { w, losses };
    };
    // 4 micro-batches of 8 vs batches of 32 (3 big steps per epoch).
    const big = await run(32, 1, 96);
    const micro = await run(8, 4, 96);
    expect(micro.losses.length).toBe(big.losses.length * 4);
    for (const key of Object.keys(big.w)) {
      assertAllClose(micro.w[key], big.w[key], { rtol: 1e-4, atol: 1e-6, label: key });
    }
    // Unequal micro-batches: 30 samples as 8 + 8 + 8 + 6 equal one batch of 30.
    const big30 = await run(30, 1, 30);
    const micro30 = await run(8, 4, 30);
    for (const key of Object.keys(big30.w)) {
      assertAllClose(micro30.w[key], big30.w[key], { rtol: 1e-4, atol: 1e-6, label: key });
    }
    // And accumulation really changes the trajectory compared with a step per micro-batch.
    const plain = await run(8, 1, 96);
    expect(plain.w['4.weight']).not.toEqual(micro.w['4.weight']);
  });

  it('calls the hooks in the documented order, History (order -100) before user callbacks', async () => {
    manualSeed(2);
    const model = tinyCnn();
    const optimizer = new SGD(model.trainableVariables(), { lr: 0.1 });
    const data = toyBatches(12, 4, 1); // 3 batches
    const validationData = toyBatches(4, 4, 2);
    const log: string[] = [];
    const hooks: Callback = {
      onTrainBegin: () => void log.push('trainBegin'),
      onEpochBegin: (epoch) => void log.push(`epochBegin ${epoch}`),
      onBatchBegin: (epoch, batch) => void log.push(`batchBegin ${epoch}.${batch}`),
      onOptimizerStep: (step) => void log.push(`step ${step}`),
      onBatchEnd: (logs) => void log.push(`batchEnd ${logs.epoch}.${logs.batch}`),
      onEpochEnd: (logs, context) =>
        void log.push(
          `epochEnd ${logs.epoch} val ${logs.valLoss !== undefined} history ${context.history.length}`,
        ),
      onTrainEnd: (context) => void log.push(`trainEnd ${context.history.length}`),
    };
    await fit(model, {
      data,
      validationData,
      optimizer,
      epochs: 2,
      accumulateSteps: 2,
      callbacks: [hooks],
    });
    const epoch = (e: number, firstStep: number) => [
      `epochBegin ${e}`,
      `batchBegin ${e}.0`,
      `batchEnd ${e}.0`,
      `batchBegin ${e}.1`,
      `step ${firstStep}`,
      `batchEnd ${e}.1`,
      `batchBegin ${e}.2`,
      `batchEnd ${e}.2`,
      `step ${firstStep + 1}`, // the partial accumulation of the last batch
      // History runs first, so the user's callback sees this epoch recorded.
      `epochEnd ${e} val true history ${e + 1}`,
    ];
    expect(log).toEqual(['trainBegin', ...epoch(0, 1), ...epoch(1, 3), 'trainEnd 2']);
    tf.dispose([...data, ...validationData].flatMap((b) => [b.x, b.y]));
    optimizer.dispose();
    model.dispose();
  });

  it('class weights give PyTorch weighted-mean cross-entropy', async () => {
    const classWeight = [0.5, 2, 1];
    const run = async (weighted: 'option' | 'loss') => {
      manualSeed(7);
      const model = tinyCnn();
      const optimizer = new SGD(model.trainableVariables(), { lr: 0.1 });
      const data = toyBatches(48, 16, 8);
      const losses: number[] = [];
      await fit(model, {
        data,
        optimizer,
        epochs: 2,
        ...(weighted === 'option'
          ? { classWeight }
          : { loss: (p: tf.Tensor, t: tf.Tensor) => crossEntropy(p, t, { weight: classWeight }) }),
        callbacks: [{ onBatchEnd: (l: BatchLogs) => void losses.push(l.loss) }],
      });
      const w = weightsOf(model);
      tf.dispose(data.flatMap((b) => [b.x, b.y]));
      model.dispose();
      return { w, losses };
    };
    const a = await run('option');
    const b = await run('loss');
    assertAllClose(a.losses, b.losses, { rtol: 1e-5 });
    for (const key of Object.keys(a.w))
      assertAllClose(a.w[key], b.w[key], { rtol: 1e-4, atol: 1e-6 });
  });

  it('adds weighted auxiliary losses ({ logits, aux } or an array), 0.3 by default', async () => {
    /** A model with two heads on the same features; eval mode returns the main head only. */
    const makeModel = (form: 'object' | 'array') => {
      manualSeed(9);
      const main = new Linear({ inFeatures: 64, outFeatures: 3 });
      const aux1 = new Linear({ inFeatures: 64, outFeatures: 3 });
      const aux2 = new Linear({ inFeatures: 64, outFeatures: 3 });
      const model: TrainableModel & { heads: Linear[] } = {
        heads: [main, aux1, aux2],
        training: true,
        forward(x: tf.Tensor): ModelOutput {
          const flat = tf.reshape(x, [x.shape[0], 64]);
          const logits = main.forward(flat);
          if (!this.training) return logits;
          const aux = [aux1.forward(flat), aux2.forward(flat)];
          return form === 'object' ? { logits, aux } : [logits, ...aux];
        },
        trainableVariables: () => [main, aux1, aux2].flatMap((m) => m.trainableVariables()),
        train(mode = true) {
          this.training = mode;
        },
        eval() {
          this.training = false;
        },
        stateDict: () => ({}),
        loadStateDict: () => {},
      };
      return model;
    };
    const data = toyBatches(16, 16, 10);
    const { x, y } = data[0];
    for (const [form, auxLossWeight] of [
      ['object', undefined],
      ['array', 0.7],
    ] as const) {
      const model = makeModel(form);
      const [main, aux1, aux2] = model.heads;
      const expected = tf.tidy(() => {
        const flat = tf.reshape(x, [16, 64]);
        const l = (m: Linear) => crossEntropy(m.forward(flat), y).dataSync()[0];
        return l(main) + (auxLossWeight ?? 0.3) * (l(aux1) + l(aux2));
      });
      const losses: number[] = [];
      const optimizer = new SGD(model.trainableVariables(), { lr: 0.1 });
      await fit(model, {
        data,
        optimizer,
        auxLossWeight,
        metrics: ['accuracy'],
        validationData: data,
        callbacks: [{ onBatchEnd: (l: BatchLogs) => void losses.push(l.loss) }],
      });
      expect(losses[0]).toBeCloseTo(expected, 5);
      // Every head learned (the aux heads only through their weighted losses).
      expect(optimizer.stateFor(aux2.weight.variable)).toBeDefined();
      for (const m of model.heads) m.dispose();
    }
    tf.dispose([x, y]);
  });

  it('stops on an AbortSignal after the current batch, and yields to the event loop', async () => {
    manualSeed(11);
    const model = tinyCnn();
    const optimizer = new SGD(model.trainableVariables(), { lr: 0.05 });
    const data = new ToyLoader({ n: 320, batchSize: 16, seed: 12 });
    const controller = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 0);
    let batches = 0;
    const { result, leakedTensors } = await measureLeaks(() =>
      fit(model, {
        data,
        optimizer,
        epochs: 3,
        signal: controller.signal,
        callbacks: [
          {
            onBatchEnd: () => {
              batches++;
              if (batches === 25) controller.abort();
            },
          },
        ],
      }),
    );
    clearInterval(timer);
    expect(result.stopReason).toBe('abort');
    expect(batches).toBe(25);
    expect(result.history.length).toBe(1); // epoch 2 was interrupted: not logged
    expect(ticks).toBeGreaterThan(5);
    expect(leakedTensors).toBe(0);
    model.dispose();
  });

  it('steps schedules per epoch or per optimizer step', async () => {
    for (const scheduleStep of ['epoch', 'batch'] as const) {
      manualSeed(13);
      const model = tinyCnn();
      const optimizer = new SGD(model.trainableVariables(), { lr: 0.1 });
      const schedule = new StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
      const data = toyBatches(32, 8, 14); // 4 batches, 2 optimizer steps per epoch
      const recorder = new Recorder();
      await fit(model, {
        data,
        optimizer,
        schedule,
        scheduleStep,
        accumulateSteps: 2,
        epochs: 3,
        callbacks: [recorder],
      });
      const perEpoch = scheduleStep === 'epoch' ? 1 : 2;
      expect(recorder.lrs).toEqual([0, 1, 2].map((e) => 0.1 * 0.5 ** (e * perEpoch)));
      expect(optimizer.getLr()).toBeCloseTo(0.1 * 0.5 ** (3 * perEpoch), 12);
      tf.dispose(data.flatMap((b) => [b.x, b.y]));
      model.dispose();
    }
  });

  it('early stopping restores the best weights; TerminateOnNaN stops at a NaN loss', async () => {
    manualSeed(15);
    const model = tinyCnn();
    const optimizer = new SGD(model.trainableVariables(), { lr: 0.05 });
    const data = toyBatches(32, 16, 16);
    const bestWeights: Record<string, Float32Array>[] = [];
    // A monitored value that is best at epoch 1 (0-based), then worse.
    const values = [3, 1, 2, 2.5, 2.7, 2.9];
    const stopper = new EarlyStopping({ monitor: 'fake', patience: 2, restoreBestWeights: true });
    const result = await fit(model, {
      data,
      optimizer,
      epochs: 6,
      metrics: [{ name: 'fake', update: () => tf.zeros([1]), result: () => Number.NaN }],
      callbacks: [
        {
          order: -1000,
          onEpochEnd: (logs: EpochLogs) => {
            logs.metrics.fake = values[logs.epoch];
            if (logs.epoch === 1) bestWeights.push(weightsOf(model));
          },
        },
        stopper,
      ],
    });
    expect(result.stopReason).toBe('early-stopping');
    expect(result.epochsRun).toBe(4);
    expect(stopper.bestEpoch).toBe(1);
    expect(weightsOf(model)).toEqual(bestWeights[0]);

    const nan = await fit(model, {
      data,
      optimizer,
      epochs: 2,
      loss: (p) => tf.mul(tf.sum(p), Number.NaN),
      callbacks: [new TerminateOnNaN()],
    });
    expect(nan.stopReason).toBe('nan');
    expect(nan.history.length).toBe(0);
    tf.dispose(data.flatMap((b) => [b.x, b.y]));
    model.dispose();
  });

  it('names the problem for bad options and bad batches', async () => {
    const model = tinyCnn();
    const optimizer = new SGD(model.trainableVariables(), { lr: 0.1 });
    await expect(fit(model, { data: 5 as never, optimizer })).rejects.toThrow(/fit: expected data/);
    await expect(fit(model, { data: [], optimizer: {} as never })).rejects.toThrow(/optimizer/);
    await expect(fit(model, { data: [], optimizer, accumulateSteps: 0 })).rejects.toThrow(
      /accumulateSteps to be an integer >= 1, received 0/,
    );
    await expect(fit(model, { data: [], optimizer })).rejects.toThrow(/yielded no batches/);
    await expect(
      fit(model, { data: [{ x: tf.zeros([2, 8, 8, 1]) } as unknown as Batch], optimizer }),
    ).rejects.toThrow(/batch 0 is not \{ x: tf.Tensor, y: tf.Tensor \}/);
    await expect(fit(model, { data: [], optimizer, metrics: ['f1' as never] })).rejects.toThrow(
      /unknown metric 'f1'/,
    );
    model.dispose();
  });
});

describe('evaluate and predict', () => {
  it('leak nothing, restore the mode, and match the forward pass', async () => {
    manualSeed(17);
    const model = tinyCnn();
    const batches = toyBatches(50, 16, 18);
    const all = tf.concat(batches.map((b) => b.x));
    await evaluate(model, batches); // warm-up
    const evalLeak = await measureLeaks(() => evaluate(model, batches, { metrics: ['accuracy'] }));
    expect(evalLeak.leakedTensors).toBe(0);
    const expected = tf.tidy(() => model.forward(all));
    const predLeak = await measureLeaks(() => predict(model, all, { batchSize: 16 }));
    expect(predLeak.leakedTensors).toBe(0);
    const predicted = predLeak.result;
    expect(predicted.shape).toEqual([50, 3]);
    assertAllClose(predicted.dataSync(), expected.dataSync(), { rtol: 1e-5 });
    // From batches (the same tensors: not disposed, as they come from an array).
    const fromBatches = await predict(model, batches);
    assertAllClose(fromBatches.dataSync(), expected.dataSync(), { rtol: 1e-5 });
    const labels = tf.concat(batches.map((b) => b.y));
    const manualLoss = crossEntropy(expected, labels).dataSync()[0];
    expect(evalLeak.result.loss).toBeCloseTo(manualLoss, 5);
    expect(model.training).toBe(true);
    tf.dispose([
      all,
      expected,
      predicted,
      fromBatches,
      labels,
      ...batches.flatMap((b) => [b.x, b.y]),
    ]);
    model.dispose();
  });
});
