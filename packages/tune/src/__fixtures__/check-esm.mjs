// The built package from plain node (ESM): a study in-process and on the default thread entry.
import { choice, defineSpace, float, runStudy, threadRunner } from '@convkit/tune';
import { objective } from './plain-objective.mjs';

const settings = {
  space: defineSpace({ x: float(0, 1), kind: choice(['a', 'b']) }),
  trials: 8,
  seed: 1,
  concurrency: 2,
  pruner: { type: 'median', startupTrials: 2 },
};
const strip = (r) => r.trials.map(({ number, params, state, value }) => ({ number, params, state, value }));
const inProcess = await runStudy({ ...settings, objective });
const threads = await runStudy({
  ...settings,
  runner: threadRunner({ size: 2, module: new URL('./plain-objective.mjs', import.meta.url) }),
});
console.log(
  JSON.stringify({
    inProcess: strip(inProcess),
    threads: strip(threads),
    threadWorkers: new Set(threads.trials.map((t) => t.worker)).size,
  }),
);
