import { parseArgs } from 'node:util';
import { BACKEND_NAMES, type BackendName } from '@convkit/backend';
import { runMainJob } from './main-job';

const USAGE = `usage: convkit main [--backend auto|${BACKEND_NAMES.join('|')}] [--epochs N] [--batch-size N] [--seed N] [--lr X] [--steps N] [--test-samples N] [--data DIR] [--run-dir DIR]

Trains LeNet-5 on Fashion-MNIST, evaluates it on the test set and writes the checkpoint and
metrics under .convkit/runs/<timestamp>/. --steps N is a smoke run (N batches per epoch).`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: 'string', default: 'auto' },
      epochs: { type: 'string', default: '8' },
      'batch-size': { type: 'string', default: '64' },
      seed: { type: 'string', default: '0' },
      lr: { type: 'string', default: '0.002' },
      steps: { type: 'string' },
      'test-samples': { type: 'string' },
      data: { type: 'string' },
      'run-dir': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0] ?? 'main';
  if (values.help || command !== 'main') {
    console.log(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const backend = values.backend as string;
  if (backend !== 'auto' && !BACKEND_NAMES.includes(backend as BackendName)) {
    throw new Error(
      `--backend: expected auto or one of ${BACKEND_NAMES.join(', ')}, received '${backend}'`,
    );
  }
  const lr = Number(values.lr);
  if (!(lr > 0)) throw new Error(`--lr: expected a positive number, received '${values.lr}'`);
  await runMainJob({
    backend: backend as 'auto' | BackendName,
    epochs: positiveInt('--epochs', values.epochs as string),
    batchSize: positiveInt('--batch-size', values['batch-size'] as string),
    seed: positiveInt('--seed', values.seed as string, true),
    lr,
    steps: values.steps === undefined ? undefined : positiveInt('--steps', values.steps),
    testSamples:
      values['test-samples'] === undefined
        ? undefined
        : positiveInt('--test-samples', values['test-samples']),
    dataPath: values.data,
    runDir: values['run-dir'],
    log: (line) => console.log(line),
  });
}

function positiveInt(flag: string, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new Error(
      `${flag}: expected a ${allowZero ? 'non-negative' : 'positive'} integer, received '${raw}'`,
    );
  }
  return n;
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`convkit: ${error.message}`);
  process.exit(1);
});
