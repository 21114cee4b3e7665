import { mkdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { writeFileAtomic } from '@convkit/train';
import { Command, Option } from 'commander';
import { checkExplainOptions, EXPLAIN_METHODS, explainInput, explanationJson } from './explain';
import { decodeLimited, preprocess } from './inference';
import { loadModelDir, resolveCheckpointDir } from './model-files';
import { integer, nonEmpty } from './options';
import { backendOption, type CliIo, imageFiles, jsonOption, useBackend } from './program';

/**
 * `convkit explain <model-dir> <images...>`: a Grad-CAM or saliency heatmap PNG per image (the
 * heatmap over the model's input), written to `--out` as `<image>.<method>.png`.
 */
export function explainCommand(io: CliIo): Command {
  return new Command('explain')
    .description(
      'Grad-CAM or saliency heatmaps of PNG / JPEG files (or every image in the folders given), written as PNGs',
    )
    .argument('<model-dir>', 'a checkpoint or run directory')
    .argument('<images...>', 'image files or folders')
    .addOption(
      new Option('--method <name>', 'attribution').choices(EXPLAIN_METHODS).default('gradcam'),
    )
    .option('--target <class>', 'class index explained (default: the predicted class)', integer(0))
    .option('--layer <path>', 'Grad-CAM: state-dict path of the layer (default: the last conv)')
    .option('-o, --out <dir>', 'where the PNGs go', nonEmpty, 'explain')
    .option('--min-side <n>', "the PNG's smallest side (integer upscale)", integer(1, 4096), 224)
    .addOption(backendOption())
    .addOption(jsonOption())
    .action(async (dir: string, paths: string[], o) => {
      resolveCheckpointDir(dir);
      await useBackend(o.backend, io, !!o.json);
      const loaded = await loadModelDir(dir);
      try {
        const options = { method: o.method, target: o.target, layer: o.layer, minSide: o.minSide };
        checkExplainOptions(loaded, options); // before anything is written
        const files = await imageFiles(paths);
        await mkdir(o.out, { recursive: true });
        const channels = loaded.inputSize[2] === 1 ? 1 : 3;
        const results = [];
        for (const file of files) {
          const image = await decodeLimited(new Uint8Array(await readFile(file)), channels, file);
          const e = await explainInput(loaded, preprocess(image, loaded), options);
          const png = join(o.out, `${basename(file, extname(file))}.${o.method}.png`);
          await writeFileAtomic(png, e.png);
          const { heatmap: _heatmap, ...rest } = explanationJson(e);
          results.push({ file, png, ...rest });
          if (!o.json)
            io.out.write(
              `${file}: ${o.method}${e.layer ? ` at ${e.layer}` : ''} for ${e.label} (${(e.probability * 100).toFixed(1)}%) -> ${png}\n`,
            );
        }
        if (o.json) io.out.write(`${JSON.stringify({ model: loaded.name, results })}\n`);
      } finally {
        loaded.model.dispose();
      }
    });
}
