// The built package from plain node (CJS): a study in-process and on the default thread entry.
const { pathToFileURL } = require('node:url');
const { join } = require('node:path');
const { choice, defineSpace, float, runStudy, threadRunner } = require('@convkit/tune');

async function main() {
  const { objective } = await import(pathToFileURL(join(__dirname, 'plain-objective.mjs')).href);
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
    runner: threadRunner({ size: 2, module: join(__dirname, 'plain-objective.mjs') }),
  });
  console.log(
    JSON.stringify({
      inProcess: strip(inProcess),
      threads: strip(threads),
      threadWorkers: new Set(threads.trials.map((t) => t.worker)).size,
    }),
  );
}
main();
