import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BACKEND_NAMES, formatBackendReport, selectBackend } from '@convkit/backend';
import { writeFileAtomic } from '@convkit/train';
import {
  DEFAULT_REDIS_URL,
  GridSampler,
  type PrunerSpec,
  RandomSampler,
  type Runner,
  redisRunner,
  resultsTable,
  runStudy,
  SearchSpace,
  type StudyResult,
  startWorker,
  TpeSampler,
  threadRunner,
} from '@convkit/tune';
import {
  optimizationHistorySpec,
  parallelCoordinatesSpec,
  parameterImportanceSpec,
  renderChartSvg,
  svgToPng,
  type VegaLiteSpec,
} from '@convkit/visualization';
import { ZOO_MODELS } from '@convkit/zoo';
import { Command, CommanderError, Option } from 'commander';
import { DATASET_KINDS, type DatasetSpec } from '../datasets';
import { integer, nonEmpty } from '../options';
import type { CliIo } from '../program';
import {
  CONFIG_ENV,
  checkSpaceParams,
  type TuneObjectiveConfig,
  tuneObjective,
} from '../tune-objective';

export const SAMPLERS = ['tpe', 'random', 'grid'] as const;
export const PRUNERS = ['none', 'asha', 'median', 'hyperband'] as const;
export const RUNNERS = ['in-process', 'threads', 'redis'] as const;

/** The options `tune` and `tune-worker` share: what each trial trains on, and how. */
function addObjectiveOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--backend <name>', 'tfjs backend')
        .choices(['auto', ...BACKEND_NAMES])
        .default('auto'),
    )
    .addOption(
      new Option('--model <name>', 'zoo model').choices(Object.keys(ZOO_MODELS)).default('lenet5'),
    )
    .addOption(
      new Option('--dataset <kind>', 'data set').choices(DATASET_KINDS).default('fashion-mnist'),
    )
    .option(
      '--data <path>',
      'Fashion-MNIST directory, CIFAR file or directory, image folder',
      nonEmpty,
    )
    .option('--samples <n>', 'synthetic: number of training images', integer(10, 1_000_000))
    .option('--image-size <n>', 'resize images to N x N', integer(1, 4096))
    .option('--epochs <n>', 'epochs per trial (the most a pruner lets run)', integer(1, 100_000), 3)
    .option(
      '--batch-size <n>',
      'batch size when the space has no batchSize',
      integer(1, 65_536),
      64,
    )
    .option(
      '--seed <n>',
      'seeds the sampler, the split, the shuffling and the models',
      integer(0),
      0,
    )
    .option('--validation-samples <n>', 'training images held out for validation', integer(1))
    .option('--steps <n>', 'smoke run: this many batches per epoch', integer(1));
}

function objectiveConfig(o: Record<string, unknown>): TuneObjectiveConfig {
  const kind = o.dataset as (typeof DATASET_KINDS)[number];
  let dataset: DatasetSpec;
  if (kind === 'fashion-mnist') dataset = { kind, path: o.data as string | undefined };
  else if (kind === 'synthetic') dataset = { kind, samples: o.samples as number | undefined };
  else if (!o.data) {
    throw new CommanderError(
      2,
      'convkit.missingData',
      `error: --dataset ${kind} needs --data <path>`,
    );
  } else dataset = { kind, path: o.data as string };
  return {
    backend: o.backend as TuneObjectiveConfig['backend'],
    model: o.model as string,
    dataset,
    imageSize: o.imageSize as number | undefined,
    epochs: o.epochs as number,
    batchSize: o.batchSize as number,
    seed: o.seed as number,
    validationSamples: o.validationSamples as number | undefined,
    steps: o.steps as number | undefined,
  };
}

function prunerSpec(name: (typeof PRUNERS)[number], epochs: number): PrunerSpec {
  switch (name) {
    case 'none':
      return { type: 'none' };
    case 'asha':
      return { type: 'asha', minResource: 1, reductionFactor: 3 };
    case 'median':
      return { type: 'median' };
    case 'hyperband':
      return { type: 'hyperband', minResource: 1, maxResource: epochs, reductionFactor: 3 };
  }
}

/** Read and validate the search space file (the errors name the file and the parameter). */
async function readSpace(file: string): Promise<SearchSpace> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`--space '${file}': cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`--space '${file}': not valid JSON (${(error as Error).message})`);
  }
  try {
    return new SearchSpace(json as never);
  } catch (error) {
    throw new Error(`--space '${file}': ${(error as Error).message}`);
  }
}

const PLOTS: [string, (s: StudyResult, logParams: string[]) => VegaLiteSpec][] = [
  [
    'optimization-history.png',
    (s) => optimizationHistorySpec(s.trials, { direction: s.direction, objective: 'val accuracy' }),
  ],
  [
    'parallel-coordinates.png',
    // Log axes where the space samples on a log scale.
    (s, logParams) =>
      parallelCoordinatesSpec(s.trials, {
        direction: s.direction,
        objective: 'val accuracy',
        logParams,
      }),
  ],
  ['parameter-importance.png', (s) => parameterImportanceSpec(s.trials)],
];

/** results.md, trials.json, best.json and the three plots (when a trial completed). */
async function writeResults(
  study: StudyResult,
  space: SearchSpace,
  dir: string,
  log: (line: string) => void,
) {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, data: string | Uint8Array) => {
    await writeFileAtomic(join(dir, name), data);
    files.push(join(dir, name));
  };
  await write('results.md', `${resultsTable(study, { sortBy: 'value' })}\n`);
  await write('trials.json', `${JSON.stringify(study, null, 2)}\n`);
  const best = study.best
    ? { trial: study.best.number, value: study.best.value, params: study.best.params }
    : null;
  await write('best.json', `${JSON.stringify(best, null, 2)}\n`);
  if (study.best) {
    const logParams = Object.entries(space.toJSON() as Record<string, { log?: boolean }>)
      .filter(([, p]) => p.log)
      .map(([name]) => name);
    for (const [name, spec] of PLOTS)
      await write(
        name,
        await svgToPng(await renderChartSvg(spec(study, logParams)), { width: 900 }),
      );
  } else log('plots: none (no trial completed)');
  return files;
}

/** `convkit tune`: run a study and write its results. */
export function tuneCommand(io: CliIo): Command {
  return addObjectiveOptions(
    new Command('tune')
      .description(
        'hyperparameter search: train a zoo model per trial (parameters from --space), report validation accuracy per epoch, write the results table, the best configuration and plots',
      )
      .requiredOption('--space <file>', 'the search space, JSON (see @convkit/tune)', nonEmpty)
      .option('--trials <n>', 'trials in all', integer(1, 100_000), 20)
      .addOption(new Option('--sampler <name>').choices(SAMPLERS).default('tpe'))
      .addOption(
        new Option('--pruner <name>', 'early stopping of trials').choices(PRUNERS).default('none'),
      )
      .addOption(
        new Option('--runner <name>', 'where trials run').choices(RUNNERS).default('in-process'),
      )
      .option('--concurrency <n>', 'trials at once (threads: the pool size)', integer(1, 1024), 1)
      .option('--redis <url>', 'redis runner: the Redis URL', nonEmpty, DEFAULT_REDIS_URL)
      .option(
        '--name <name>',
        'the study name (redis: the key a study resumes under)',
        nonEmpty,
        'study',
      )
      .option(
        '--out <dir>',
        'where the results go (default .convkit/tune/<name>-<timestamp>)',
        nonEmpty,
      )
      .option('--json', 'print the result as JSON on stdout (logs go to stderr)'),
  ).action(async (o) => {
    const log = (line: string) => (o.json ? io.err : io.out).write(`${line}\n`);
    const space = await readSpace(o.space);
    const config = objectiveConfig(o);
    // Trials on threads select their backend in each thread; this one checks the space.
    const report = await selectBackend({
      backend: o.runner === 'threads' ? 'cpu' : config.backend,
    });
    if (o.runner !== 'threads') log(formatBackendReport(report));
    checkSpaceParams(config.model, Object.keys(space.toJSON()));
    if (o.runner === 'in-process' && o.concurrency !== 1) {
      throw new CommanderError(
        2,
        'convkit.usage',
        'error: --runner in-process runs one trial at a time; use threads or redis for --concurrency > 1',
      );
    }
    let runner: Runner | undefined;
    if (o.runner === 'threads') {
      process.env[CONFIG_ENV] = JSON.stringify(config);
      runner = threadRunner({
        size: o.concurrency,
        module: new URL('./tune-objective.js', import.meta.url),
      });
    } else if (o.runner === 'redis') {
      runner = redisRunner({ url: o.redis });
    }
    const sampler =
      o.sampler === 'grid'
        ? new GridSampler()
        : o.sampler === 'random'
          ? new RandomSampler()
          : new TpeSampler();
    const out = resolve(
      o.out ??
        join('.convkit', 'tune', `${o.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    );
    log(
      `study '${o.name}': ${o.trials} trial(s), ${o.sampler} sampler, pruner ${o.pruner}, ${o.runner} runner${o.runner === 'in-process' ? '' : ` x${o.concurrency}`}, ${config.model} on ${config.dataset.kind}, ${config.epochs} epoch(s) per trial`,
    );
    if (o.runner === 'redis')
      log(
        `trials go to BullMQ on ${o.redis}: start convkit tune-worker processes there with the same data options`,
      );
    const study = await runStudy({
      name: o.name,
      space,
      trials: o.trials,
      direction: 'maximize',
      sampler,
      pruner: prunerSpec(o.pruner, config.epochs),
      seed: o.seed,
      concurrency: o.concurrency,
      objective: runner ? undefined : tuneObjective(config),
      runner,
      onTrial: (t) =>
        log(
          `trial ${t.number}: ${t.state}${t.value === undefined ? '' : ` val accuracy ${t.value.toFixed(4)}`} after ${t.intermediate.length} epoch(s), ${JSON.stringify(t.params)}${t.error ? `: ${t.error.split('\n')[0]}` : ''}`,
        ),
    });
    const files = await writeResults(study, space, out, log);
    if (o.json) {
      io.out.write(
        `${JSON.stringify({ name: study.name, stop: study.stop, best: study.best ?? null, trials: study.trials, outDir: out, files })}\n`,
      );
    } else {
      log(resultsTable(study, { sortBy: 'value', limit: 10 }));
      log(`results in ${out}`);
    }
  });
}

/** `convkit tune-worker`: take trials of `tune --runner redis` studies until SIGTERM / SIGINT. */
export function tuneWorkerCommand(io: CliIo): Command {
  return addObjectiveOptions(
    new Command('tune-worker')
      .description(
        'a worker for `tune --runner redis`: pulls trials from BullMQ on Redis and trains them (start it with the same objective options as the study); stops on SIGTERM / SIGINT after its running trial',
      )
      .option('--redis <url>', 'the Redis URL', nonEmpty, DEFAULT_REDIS_URL),
  ).action(async (o) => {
    const config = objectiveConfig(o);
    io.err.write(`${formatBackendReport(await selectBackend({ backend: config.backend }))}\n`);
    const worker = await startWorker({
      url: o.redis,
      objective: tuneObjective(config) as never,
      onTrial: (t, recorded) =>
        io.err.write(
          `trial ${t.number}: ${t.state}${t.value === undefined ? '' : ` ${t.value.toFixed(4)}`}${recorded ? '' : ' (already recorded elsewhere)'}\n`,
        ),
    });
    io.out.write(`tune-worker ${worker.id} ready on ${o.redis}\n`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        void worker.close().then(done);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    io.err.write(`tune-worker ${worker.id} stopped\n`);
  });
}

/** Both commands, for `buildProgram`. */
export const TUNE_COMMANDS = [tuneCommand, tuneWorkerCommand];
