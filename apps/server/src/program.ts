import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BACKEND_NAMES,
  type BackendName,
  formatBackendReport,
  selectBackend,
} from '@convkit/backend';
import { DataLoader, IMAGE_EXTENSIONS } from '@convkit/data';
import { summary as modelSummary } from '@convkit/layers';
import { evaluate, type TextStream } from '@convkit/train';
import { createZooModel, ZOO_MODELS } from '@convkit/zoo';
import { Command, CommanderError, Option } from 'commander';
import { TUNE_COMMANDS } from './commands/tune';
import {
  AUGMENTATIONS,
  DATASET_KINDS,
  type DatasetSpec,
  loadData,
  transformsFor,
} from './datasets';
import { explainCommand } from './explain-command';
import { EXPORT_FORMATS, exportModel } from './export-model';
import { decodeLimited, preprocess, topK } from './inference';
import { ENGINES, prepareEngine } from './inference-engine';
import { runMainJob } from './main-job';
import { loadModelDir, resolveCheckpointDir } from './model-files';
import { finiteNumber, integer, nonEmpty } from './options';
import { OPTIMIZERS, runTrainJob, SCHEDULES, TrainingDivergedError } from './train-job';
import { transferCommand } from './transfer-command';

/** Where a command writes: results to `out`, messages and progress to `err`. */
export interface CliIo {
  out: TextStream;
  err: TextStream;
}

/** Exit codes: 0 success, 1 a failure while running, 2 a usage error, 3 training diverged. */
export const EXIT = { ok: 0, failure: 1, usage: 2, diverged: 3 } as const;

const BACKENDS = ['auto', ...BACKEND_NAMES] as const;

export const VERSION: string = (() => {
  try {
    // src/program.ts and dist/cli.js are both one level below the package root.
    return createRequire(import.meta.url)('../package.json').version as string;
  } catch {
    return '0.0.0';
  }
})();

/**
 * The web app's production build beside this app (`apps/web/dist`), served by `convkit serve`
 * unless `--web DIR` or `--no-web` says otherwise. src/program.ts and dist/cli.js are both one
 * level below apps/server.
 */
export const DEFAULT_WEB_DIR: string = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** `--web`: a directory, `false` (`--no-web`), or the default build when it exists. */
export function webDirFor(option: string | false | undefined): string | undefined {
  if (option === false) return undefined;
  if (typeof option === 'string') return option;
  return existsSync(join(DEFAULT_WEB_DIR, 'index.html')) ? DEFAULT_WEB_DIR : undefined;
}

/** Commands other packages will add (the `explain` and `transfer` commands), listed in --help. */
export type CommandFactory = (io: CliIo) => Command;

export const backendOption = () =>
  new Option('--backend <name>', 'tfjs backend').choices(BACKENDS).default('auto');
export const jsonOption = () =>
  new Option('--json', 'print the result as JSON on stdout (logs go to stderr)');
/** `--engine` and `--threads` of `predict` and `serve`. */
export const engineOption = () =>
  new Option(
    '--engine <name>',
    "what runs the forward pass: tfjs (on --backend) or onnxruntime (the model exported to ONNX in memory and run by onnxruntime-node, an optional package: pnpm add onnxruntime-node). explain (and serve's /explain route) always runs on tfjs, which has the gradients",
  )
    .choices(ENGINES)
    .default('tfjs');
export const threadsOption = () =>
  new Option(
    '--threads <n>',
    "threads for the forward pass: onnxruntime's per operator, or the wasm backend's (default: every core; for wasm, CONVKIT_WASM_THREADS if set)",
  ).argParser(integer(1, 1024));

function print(io: CliIo, json: boolean, value: unknown, text: string): void {
  io.out.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

/** The `convkit` program: every command, parsing and validation, writing through `io`. */
export function buildProgram(io: CliIo, extraCommands: CommandFactory[] = []): Command {
  const program = new Command('convkit')
    .description('convkit: train, evaluate, predict with, summarize, export and serve CNNs')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
    })
    .exitOverride();

  const log = (json: boolean) => (line: string) => (json ? io.err : io.out).write(`${line}\n`);

  const addTrainingOptions = (command: Command) =>
    command
      .addOption(backendOption())
      .option('--epochs <n>', 'training epochs', integer(1, 100_000))
      .option('--batch-size <n>', 'training batch size', integer(1, 65_536))
      .option('--seed <n>', 'seeds the model, the split and the shuffling', integer(0))
      .option(
        '--lr <x>',
        "the optimizer's initial learning rate",
        finiteNumber(0, 10, { exclusiveMin: true }),
      )
      .option('--steps <n>', 'smoke run: this many batches per epoch', integer(1))
      .option('--validation-samples <n>', 'training images held out for validation', integer(1))
      .option('--test-samples <n>', 'evaluate on the first N test images', integer(1))
      .option('--run-dir <dir>', 'where the checkpoint and metrics go', nonEmpty)
      .addOption(jsonOption());

  addTrainingOptions(
    program
      .command('main')
      .description(
        "the README's main job: LeNet-5 on Fashion-MNIST, test-set evaluation, confusion matrix, checkpoint, metrics and a gallery of the network's insides under .convkit/runs/<timestamp>/",
      )
      .option('--data <dir>', 'a directory holding the four Fashion-MNIST files', nonEmpty)
      .option(
        '--no-gallery',
        'skip gallery/ (feature maps, filters, reconstructions, attributions)',
      ),
  ).action(async (o) => {
    const result = await runMainJob({
      backend: o.backend,
      dataPath: o.data,
      epochs: o.epochs ?? 8,
      batchSize: o.batchSize ?? 64,
      seed: o.seed ?? 0,
      lr: o.lr,
      steps: o.steps,
      validationSamples: o.validationSamples,
      testSamples: o.testSamples,
      runDir: o.runDir,
      gallery: o.gallery,
      log: log(!!o.json),
      progress: o.json ? null : io.err,
    });
    if (o.json) print(io, true, jobJson(result), '');
  });

  addTrainingOptions(
    program
      .command('train')
      .description(
        'train a zoo model on Fashion-MNIST, CIFAR binary files, an image folder or synthetic shapes',
      )
      .addOption(
        new Option('--model <name>', 'zoo model')
          .choices(Object.keys(ZOO_MODELS))
          .default('lenet5'),
      )
      .addOption(
        new Option('--dataset <kind>', 'data set').choices(DATASET_KINDS).default('fashion-mnist'),
      )
      .option(
        '--data <path>',
        'Fashion-MNIST directory, CIFAR .bin file or directory, image folder root',
        nonEmpty,
      )
      .option('--samples <n>', 'synthetic: number of training images', integer(10, 1_000_000))
      .option('--image-size <n>', 'resize images to N x N', integer(1, 4096))
      .addOption(new Option('--optimizer <name>').choices(OPTIMIZERS).default('adam'))
      .option('--momentum <x>', 'SGD momentum', finiteNumber(0, 1))
      .option('--weight-decay <x>', 'weight decay', finiteNumber(0, 1))
      .addOption(
        new Option('--schedule <name>', 'learning-rate schedule, stepped per batch')
          .choices(SCHEDULES)
          .default('cosine'),
      )
      .addOption(
        new Option('--augment <name>', 'training augmentation')
          .choices(AUGMENTATIONS)
          .default('none'),
      )
      .option(
        '--resume <dir>',
        'resume from a checkpoint directory (<run>/checkpoint/last)',
        nonEmpty,
      )
      .option(
        '--gallery',
        'also write gallery/: feature maps, filters, reconstructions, attributions',
      ),
  ).action(async (o) => {
    const dataset = datasetSpec(o.dataset, o.data, o.samples);
    const result = await runTrainJob({
      backend: o.backend,
      model: o.model,
      dataset,
      epochs: o.epochs ?? 8,
      batchSize: o.batchSize ?? 64,
      seed: o.seed ?? 0,
      lr: o.lr ?? (o.optimizer === 'sgd' ? 0.05 : 2e-3),
      optimizer: o.optimizer,
      momentum: o.momentum,
      weightDecay: o.weightDecay,
      schedule: o.schedule,
      augmentation: o.augment,
      imageSize: o.imageSize,
      steps: o.steps,
      validationSamples: o.validationSamples,
      testSamples: o.testSamples,
      runDir: o.runDir,
      resume: o.resume,
      gallery: !!o.gallery,
      log: log(!!o.json),
      progress: o.json ? null : io.err,
    });
    if (o.json) print(io, true, jobJson(result), '');
  });

  program
    .command('evaluate')
    .description("evaluate a checkpoint on a data set's test split (loss, accuracy)")
    .argument('<model-dir>', 'a checkpoint or run directory')
    .addOption(new Option('--dataset <kind>').choices(DATASET_KINDS).default('fashion-mnist'))
    .option('--data <path>', 'the data set location', nonEmpty)
    .option('--batch-size <n>', 'batch size', integer(1, 65_536), 250)
    .option('--test-samples <n>', 'evaluate on the first N test images', integer(1))
    .addOption(backendOption())
    .addOption(jsonOption())
    .action(async (dir: string, o) => {
      resolveCheckpointDir(dir); // fail fast, before loading a backend
      await useBackend(o.backend, io, !!o.json);
      const loaded = await loadModelDir(dir);
      try {
        const data = await loadData(datasetSpec(o.dataset, o.data), {
          imageSize: loaded.inputSize[0],
          seed: 0,
        });
        const test = data.test ?? data.train;
        const count = Math.min(o.testSamples ?? test.length, test.length);
        const { subset } = await import('@convkit/data');
        const set = subset(
          test,
          Int32Array.from({ length: count }, (_, i) => i),
        );
        const stats = { ...data, mean: loaded.mean, std: loaded.std, inputSize: loaded.inputSize };
        const loader = new DataLoader(set, {
          batchSize: o.batchSize,
          transform: transformsFor(stats, 'none', false),
        });
        const result = await evaluate(loaded.model as never, loader, { metrics: ['accuracy'] });
        const value = {
          model: loaded.name,
          dir: loaded.dir,
          loss: result.loss,
          accuracy: result.metrics.accuracy,
          samples: result.samples,
        };
        print(
          io,
          !!o.json,
          value,
          `${loaded.name}: loss ${result.loss.toFixed(4)}, accuracy ${(result.metrics.accuracy * 100).toFixed(2)}% on ${result.samples} images`,
        );
      } finally {
        loaded.model.dispose();
      }
    });

  program
    .command('predict')
    .description(
      'classify PNG / JPEG files (or every image in the folders given): top-k classes with probabilities',
    )
    .argument('<model-dir>', 'a checkpoint or run directory')
    .argument('<images...>', 'image files or folders')
    .option('-k, --top-k <n>', 'classes per image', integer(1, 1000), 3)
    .option('--batch-size <n>', 'images per forward pass', integer(1, 4096), 32)
    .addOption(backendOption())
    .addOption(engineOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action(async (dir: string, paths: string[], o) => {
      resolveCheckpointDir(dir);
      // The engine first: a missing onnxruntime-node stops the command before anything loads.
      const makeEngine = await prepareEngine({ engine: o.engine, threads: o.threads });
      await useBackend(o.backend, io, !!o.json, o.threads);
      const loaded = await loadModelDir(dir);
      const engine = await makeEngine(loaded).catch((error) => {
        loaded.model.dispose();
        throw error;
      });
      try {
        const files = await imageFiles(paths);
        const channels = loaded.inputSize[2] === 1 ? 1 : 3;
        const results: { file: string; predictions: ReturnType<typeof topK> }[] = [];
        for (let i = 0; i < files.length; i += o.batchSize) {
          const chunk = files.slice(i, i + o.batchSize);
          const inputs = [];
          for (const file of chunk) {
            const image = await decodeLimited(new Uint8Array(await readFile(file)), channels, file);
            inputs.push(preprocess(image, loaded));
          }
          const probabilities = await engine.predictProbabilities(inputs);
          for (const [j, file] of chunk.entries()) {
            results.push({ file, predictions: topK(probabilities[j], loaded.classNames, o.topK) });
          }
        }
        const text = results
          .map(
            (r) =>
              `${r.file}: ${r.predictions.map((p) => `${p.label} ${(p.probability * 100).toFixed(1)}%`).join(', ')}`,
          )
          .join('\n');
        print(io, !!o.json, { model: loaded.name, engine: engine.engine, results }, text);
      } finally {
        await engine.dispose();
        loaded.model.dispose();
      }
    });

  program
    .command('summary')
    .description(
      'layer table (output shapes, parameters, multiply-adds) of a checkpoint or a zoo model',
    )
    .argument('<model>', 'a checkpoint or run directory, or a zoo model name')
    .option('--num-classes <n>', 'zoo model: classes', integer(1, 100_000))
    .option('--in-channels <n>', 'zoo model: input channels', integer(1, 4096))
    .option('--image-size <n>', "input side (default: the model's)", integer(1, 4096))
    .addOption(jsonOption())
    .action(async (target: string, o) => {
      await useBackend('cpu', io, true);
      const isZoo = Object.hasOwn(ZOO_MODELS, target);
      const loaded = isZoo ? null : await loadModelDir(target);
      const model =
        loaded?.model ??
        createZooModel(target, {
          ...(o.numClasses ? { numClasses: o.numClasses } : {}),
          ...(o.inChannels ? { inChannels: o.inChannels } : {}),
          initWeights: false,
        });
      try {
        const size = loaded?.inputSize ?? [
          ...(model as ReturnType<typeof createZooModel>).info.inputSize,
        ];
        const side = o.imageSize;
        const shape = [1, side ?? size[0], side ?? size[1], o.inChannels ?? size[2]];
        const s = modelSummary(model, shape);
        const value = {
          model: loaded?.architecture ?? target,
          inputShape: shape,
          trainableParams: s.trainableParams,
          nonTrainableParams: s.nonTrainableParams,
          multiplyAdds: s.multiplyAdds,
          rows: s.rows,
        };
        print(io, !!o.json, value, s.text);
      } finally {
        model.dispose();
      }
    });

  program
    .command('export')
    .description(
      "write a checkpoint's weights as safetensors (convkit or PyTorch layout) or a tfjs model.json directory",
    )
    .argument('<model-dir>', 'a checkpoint or run directory')
    .addOption(
      new Option('--format <name>', 'output format').choices(EXPORT_FORMATS).default('safetensors'),
    )
    .requiredOption(
      '-o, --out <path>',
      'output file (safetensors, pytorch) or directory (tfjs)',
      nonEmpty,
    )
    .addOption(jsonOption())
    .action(async (dir: string, o) => {
      await useBackend('cpu', io, true);
      const loaded = await loadModelDir(dir);
      try {
        const files = await exportModel(loaded, o.out, o.format);
        print(
          io,
          !!o.json,
          { model: loaded.name, format: o.format, files },
          `wrote ${files.join(', ')}`,
        );
      } finally {
        loaded.model.dispose();
      }
    });

  program
    .command('serve')
    .description(
      'HTTP inference server over one or more checkpoints (see the README for the endpoints)',
    )
    .requiredOption(
      '--model <[name=]dir...>',
      'a checkpoint or run directory to serve (repeatable)',
    )
    .option('--host <host>', 'address to listen on', nonEmpty, '127.0.0.1')
    .option('--port <n>', 'port (0 picks a free one)', integer(0, 65_535), 8080)
    .option('--max-batch <n>', 'largest micro-batch', integer(1, 4096), 32)
    .option(
      '--max-wait-ms <n>',
      'longest a request waits for its batch to fill',
      integer(0, 10_000),
      5,
    )
    .option('--max-queue <n>', 'queued images before answering 503', integer(1, 1_000_000), 256)
    .option('--timeout-ms <n>', 'per-request timeout', integer(1, 600_000), 10_000)
    .option('--body-limit <bytes>', 'largest request body', integer(1024, 1 << 30), 8 * 1024 * 1024)
    .option('--max-image-side <n>', 'largest image side accepted', integer(1, 65_535), 4096)
    .option(
      '--web <dir>',
      `also serve this static directory (the web app's build) at / on the same port; API routes keep precedence, other GET paths without a file extension get index.html (default: the web app's build beside this app, apps/web/dist, when it exists)`,
      nonEmpty,
    )
    .option('--no-web', 'serve the API only, not the web app')
    .addOption(backendOption())
    .addOption(engineOption())
    .addOption(threadsOption())
    .action(async (o) => {
      const { startServer } = await import('./server/start');
      const { checkWebDir } = await import('./server/app');
      const web = webDirFor(o.web);
      if (web) checkWebDir(web); // fail fast, before loading a backend and the models
      const makeEngine = await prepareEngine({ engine: o.engine, threads: o.threads }); // as early, for onnxruntime
      await useBackend(o.backend, io, true, o.threads);
      await startServer({
        models: o.model.map(parseModelArg),
        makeEngine,
        host: o.host,
        port: o.port,
        maxBatch: o.maxBatch,
        maxWaitMs: o.maxWaitMs,
        maxQueue: o.maxQueue,
        timeoutMs: o.timeoutMs,
        bodyLimit: o.bodyLimit,
        imageLimits: { maxSide: o.maxImageSide, maxPixels: o.maxImageSide * o.maxImageSide },
        web,
        log: (line) => io.err.write(`${line}\n`),
      });
    });

  program.addCommand(explainCommand(io).copyInheritedSettings(program));
  program.addCommand(transferCommand(io).copyInheritedSettings(program));
  for (const make of [...TUNE_COMMANDS, ...extraCommands])
    program.addCommand(make(io).copyInheritedSettings(program));
  return program;
}

function parseModelArg(raw: string): { name?: string; dir: string } {
  const eq = raw.indexOf('=');
  if (eq > 0 && !raw.slice(0, eq).includes('/'))
    return { name: raw.slice(0, eq), dir: raw.slice(eq + 1) };
  return { dir: raw };
}

function datasetSpec(
  kind: (typeof DATASET_KINDS)[number],
  data?: string,
  samples?: number,
): DatasetSpec {
  if (kind === 'fashion-mnist') return { kind, path: data };
  if (kind === 'synthetic') return { kind, samples };
  if (!data)
    throw new CommanderError(
      EXIT.usage,
      'convkit.missingData',
      `error: --dataset ${kind} needs --data <path>`,
    );
  return { kind, path: data };
}

export async function useBackend(
  backend: 'auto' | BackendName,
  io: CliIo,
  quiet: boolean,
  threads?: number,
): Promise<void> {
  const report = await selectBackend({ backend, threads });
  if (!quiet) io.err.write(`${formatBackendReport(report)}\n`);
}

export async function imageFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch(() => null);
    if (!info) throw new Error(`'${p}': no such file or directory`);
    if (info.isDirectory()) {
      const names = (await readdir(p)).sort();
      files.push(
        ...names
          .filter((n) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase()))
          .map((n) => join(p, n)),
      );
    } else files.push(p);
  }
  if (files.length === 0) throw new Error(`no PNG or JPEG files in ${paths.join(', ')}`);
  return files;
}

function jobJson(result: Awaited<ReturnType<typeof runTrainJob>>) {
  return {
    backend: result.report.backend,
    runDir: result.runDir,
    stopReason: result.stopReason,
    history: result.history,
    test: result.test,
    confusion: result.confusion,
    seconds: result.seconds,
  };
}

/**
 * Run the program on `argv` (without `node` and the script) and return the exit code: usage
 * errors print commander's message and exit 2, failures print `convkit: <message>` on stderr
 * and exit 1 (3 when training diverged).
 */
export async function runCli(
  argv: string[],
  io: CliIo,
  extraCommands: CommandFactory[] = [],
): Promise<number> {
  const program = buildProgram(io, extraCommands);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return EXIT.ok;
      // Our own usage errors (commander prints its own).
      if (error.code.startsWith('convkit.')) io.err.write(`${error.message}\n`);
      return EXIT.usage;
    }
    io.err.write(`convkit: ${(error as Error).message}\n`);
    return error instanceof TrainingDivergedError ? EXIT.diverged : EXIT.failure;
  }
}
