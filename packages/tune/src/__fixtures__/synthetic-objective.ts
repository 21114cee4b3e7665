import type { Trial } from '../trial';

/**
 * A cheap synthetic objective with per-epoch reports: a learning curve that saturates at a
 * quality set by the params, with a random (timing-only) pause per epoch so that trials finish
 * in a different order on every run. TUNE_EPOCH_MS sets the pause (default 2 ms).
 */
export async function objective(trial: Trial<Record<string, unknown>>): Promise<number> {
  const { x, width, kind } = trial.params as { x: number; width: number; kind: string };
  const quality = (x - 0.3) ** 2 + ((width - 24) / 32) ** 2 + (kind === 'b' ? 0 : 0.2);
  const pause = Number(process.env.TUNE_EPOCH_MS ?? 2);
  let value = 0;
  for (let epoch = 1; epoch <= 9; epoch++) {
    await new Promise((r) => setTimeout(r, Math.random() * pause));
    value = quality + 1 / epoch;
    if (process.env.TUNE_ANNOUNCE) process.stdout.write(`epoch ${trial.number} ${epoch}\n`);
    if (trial.report(epoch, value)) break;
  }
  return value;
}
