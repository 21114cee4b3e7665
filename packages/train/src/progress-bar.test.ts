import { manualSeed } from '@convkit/backend';
import { SGD } from '@convkit/optimizers';
import { useBackend } from '@convkit/tooling/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ToyLoader, tinyCnn } from './__fixtures__/toy';
import { fit } from './fit';
import { formatDuration, ProgressBar, type ProgressEvent } from './progress-bar';

beforeAll(async () => {
  await useBackend('cpu');
});

async function train(bar: ProgressBar, epochs = 2) {
  manualSeed(0);
  const model = tinyCnn();
  const optimizer = new SGD(model.trainableVariables(), { lr: 0.05 });
  const data = new ToyLoader({ n: 64, batchSize: 16, seed: 1 });
  const val = new ToyLoader({ n: 32, batchSize: 32, seed: 2 });
  await fit(model, {
    data,
    optimizer,
    epochs,
    metrics: ['accuracy'],
    validationData: val,
    callbacks: [bar],
  });
  model.dispose();
}

describe('ProgressBar', () => {
  it('redraws one line in place on a TTY: bar, loss, metrics, speed and ETA', async () => {
    let out = '';
    await train(
      new ProgressBar({ stream: { isTTY: true, write: (s) => (out += s) }, minIntervalMs: 0 }),
    );
    const lines = out.split('\n');
    expect(lines).toHaveLength(3); // two epochs, then the trailing newline
    const draws = lines[0].split('\r').filter(Boolean);
    expect(draws.length).toBe(5); // 4 batches and the epoch summary
    expect(draws[0]).toMatch(
      /^epoch 1\/2 {2}\[=+> *\] 1\/4 {2}loss \d\.\d{4} accuracy \d\.\d{4} {2}[\d.]+ samples\/s {2}ETA \d+:\d\d/,
    );
    expect(draws[4]).toMatch(
      /^epoch 1\/2 {2}4 batches .* val_loss \d\.\d{4} val_accuracy .* samples\/s {2}lr 0\.0500/,
    );
  });

  it('writes one line per epoch when the stream is not a TTY, and emits events for a UI', async () => {
    let out = '';
    const events: ProgressEvent[] = [];
    await train(
      new ProgressBar({ stream: { write: (s) => (out += s) }, onUpdate: (e) => events.push(e) }),
      3,
    );
    expect(out.trim().split('\n')).toHaveLength(3);
    expect(out).not.toContain('\r');
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(epochs[2].valMetrics?.accuracy).toBeGreaterThanOrEqual(0);
    const batch = events.find((e) => e.type === 'batch')!;
    expect(batch.batches).toBe(4);
    expect(batch.samplesPerSecond).toBeGreaterThan(0);
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});
