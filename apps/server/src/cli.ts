import { parseArgs } from 'node:util';
import { BACKEND_NAMES, type BackendName } from '@convkit/backend';
import { runMainJob } from './main-job';

const USAGE = `usage: convkit main [--backend auto|${BACKEND_NAMES.join('|')}] [--steps N] [--batch-size N] [--seed N]`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: 'string', default: 'auto' },
      steps: { type: 'string', default: '30' },
      'batch-size': { type: 'string', default: '32' },
      seed: { type: 'string', default: '0' },
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
  await runMainJob({
    backend: backend as 'auto' | BackendName,
    steps: positiveInt('--steps', values.steps as string),
    batchSize: positiveInt('--batch-size', values['batch-size'] as string),
    seed: positiveInt('--seed', values.seed as string, true),
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
