import { Command, Option } from 'commander';
import { DATASET_KINDS, type DatasetSpec } from './datasets';
import { resolveCheckpointDir } from './model-files';
import { finiteNumber, integer, nonEmpty } from './options';
import { backendOption, type CliIo, jsonOption, useBackend } from './program';
import { runTransferJob } from './transfer-job';

/**
 * `convkit transfer <model-dir>`: fine-tune a trained zoo model (a checkpoint or run directory)
 * on another data set with `@convkit/transfer`: a new head, the encoder frozen, then the top
 * stages unfrozen. Writes a checkpoint that `predict`, `evaluate`, `explain` and `serve` load.
 */
export function transferCommand(io: CliIo): Command {
  return new Command('transfer')
    .description(
      'fine-tune a trained zoo model on another data set: a new head on the frozen encoder, then the top stages (@convkit/transfer)',
    )
    .argument('<model-dir>', 'the pretrained checkpoint or run directory')
    .addOption(
      new Option('--dataset <kind>', 'data set').choices(DATASET_KINDS).default('image-folder'),
    )
    .option(
      '--data <path>',
      'image folder root, CIFAR .bin file or directory, Fashion-MNIST dir',
      nonEmpty,
    )
    .option('--samples <n>', 'training images used (synthetic: generated)', integer(10, 1_000_000))
    .option('--head-epochs <n>', 'phase 1: the head alone', integer(0, 100_000), 2)
    .option('--fine-tune-epochs <n>', 'phase 2: top stages unfrozen', integer(0, 100_000))
    .option(
      '--unfreeze-stages <n>',
      "phase 2: stages from the top (default: chooseHead's)",
      integer(0, 64),
    )
    .option('--head-lr <x>', 'phase 1 learning rate', finiteNumber(0, 10, { exclusiveMin: true }))
    .option('--lr <x>', "phase 2 head's learning rate", finiteNumber(0, 10, { exclusiveMin: true }))
    .option('--batch-size <n>', 'batch size', integer(1, 65_536), 32)
    .option('--seed <n>', 'seeds the head, the shuffling and synthetic data', integer(0), 0)
    .option('--steps <n>', 'smoke run: steps * batch-size training images', integer(1))
    .option('--test-samples <n>', 'evaluate on the first N test images', integer(1))
    .option('--run-dir <dir>', 'where the checkpoint and metrics go', nonEmpty)
    .addOption(backendOption())
    .addOption(jsonOption())
    .action(async (dir: string, o) => {
      resolveCheckpointDir(dir);
      let dataset: DatasetSpec;
      if (o.dataset === 'synthetic') dataset = { kind: 'synthetic', samples: o.samples };
      else if (o.dataset === 'fashion-mnist') dataset = { kind: 'fashion-mnist', path: o.data };
      else if (!o.data) throw new Error(`--dataset ${o.dataset} needs --data <path>`);
      else dataset = { kind: o.dataset, path: o.data };
      await useBackend(o.backend, io, !!o.json);
      const result = await runTransferJob({
        source: dir,
        dataset,
        batchSize: o.batchSize,
        seed: o.seed,
        headEpochs: o.headEpochs,
        headLr: o.headLr,
        fineTuneEpochs: o.fineTuneEpochs,
        unfreezeStages: o.unfreezeStages,
        lr: o.lr,
        steps: o.steps,
        samples: o.dataset === 'synthetic' ? undefined : o.samples,
        testSamples: o.testSamples,
        runDir: o.runDir,
        log: (line) => (o.json ? io.err : io.out).write(`${line}\n`),
      });
      if (o.json) io.out.write(`${JSON.stringify(result)}\n`);
    });
}
