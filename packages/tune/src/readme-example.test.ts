// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks its results.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { expect, it, vi } from 'vitest';

const logged: unknown[][] = [];
vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
  logged.push(args);
});

// README example start
import { choice, defineSpace, float, int, resultsTable, runStudy, TpeSampler } from '@convkit/tune';

const space = defineSpace({
  filters: int(4, 64, { log: true }),
  lr: float(1e-4, 1e-1, { log: true }),
  optimizer: choice(['sgd', 'adam']),
  momentum: float(0.5, 0.99, { when: { param: 'optimizer', equals: 'sgd' } }),
});

const study = await runStudy({
  space,
  trials: 30,
  seed: 0,
  direction: 'maximize',
  sampler: new TpeSampler({ startupTrials: 10 }),
  pruner: { type: 'asha', minResource: 1, reductionFactor: 3 },
  // A stand-in for training: report a validation accuracy per epoch, stop when told.
  objective: async (trial) => {
    const { filters, lr, optimizer, momentum } = trial.params;
    const ceiling =
      0.9 -
      (Math.log10(lr) + 2.5) ** 2 / 10 -
      (optimizer === 'sgd' ? (0.9 - momentum!) ** 2 : 0.02);
    let accuracy = 0;
    for (let epoch = 1; epoch <= 9; epoch++) {
      accuracy = ceiling * (1 - Math.exp(-epoch / (2 + 16 / filters)));
      if (trial.report(epoch, accuracy)) break; // pruned: stop early
    }
    return accuracy;
  },
});
console.log(resultsTable(study, { sortBy: 'value', limit: 5 }));
console.log(study.best?.params);
// README example end

it('the README example runs as written', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
  expect(study.trials.length).toBe(30);
  expect(study.trials.filter((t) => t.state === 'pruned').length).toBeGreaterThan(5);
  expect(study.best!.value).toBeGreaterThan(0.8);
  const table = logged[0][0] as string;
  expect(table.split('\n')[0]).toBe(
    '| trial | state | value | steps | seconds | filters | lr | optimizer | momentum |',
  );
  expect(table).toContain(`Best: trial ${study.best!.number}`);
  expect(logged[1][0]).toEqual(study.best!.params);
});
