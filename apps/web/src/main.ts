/**
 * The page: plain TypeScript and DOM (five views of buttons, inputs and canvases need no
 * framework, and the bundle stays the worker's). Everything that touches a tensor runs in the
 * worker (worker.ts); this file sends requests and draws what comes back.
 */
import type { BackendReport } from '@convkit/backend';
import type { RgbaImage } from '@convkit/visualization';
import { drawChart, type Series } from './chart';
import { WorkerClient } from './client';
import { DrawPad } from './draw-pad';
import { imagePixels } from './image-pixels';
import type { BackendChoice, InspectResult, LoadResult, ModelSummary, Pixels } from './protocol';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

const client = new WorkerClient();
client.onTensors = (count) => {
  $('tensor-count').textContent = `Tensors in the worker: ${count}`;
  document.body.dataset.tensors = String(count);
};

function paint(canvas: HTMLCanvasElement, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  context.putImageData(
    new ImageData(new Uint8ClampedArray(image.data), image.width, image.height),
    0,
    0,
  );
}

function canvasOf(image: RgbaImage, label: string): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  paint(canvas, image);
  return canvas;
}

function greyImage(pixels: Pixels, scale: number): RgbaImage {
  const side = 28 * scale;
  const data = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = Math.round(pixels[Math.floor(y / scale) * 28 + Math.floor(x / scale)] * 255);
      data.set([v, v, v, 255], (y * side + x) * 4);
    }
  }
  return { width: side, height: side, data };
}

function fail(where: HTMLElement, error: unknown): void {
  where.textContent = `Error: ${(error as Error).message}`;
  where.classList.add('error');
}

function say(where: HTMLElement, text: string): void {
  where.textContent = text;
  where.classList.remove('error');
}

// ---- tabs ----------------------------------------------------------------------------------
const tabs = ['train', 'inspect', 'transfer', 'weights'];
function showTab(name: string): void {
  for (const tab of tabs) {
    const selected = tab === name;
    const button = $(`tab-${tab}`);
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`view-${tab}`).hidden = !selected;
  }
  if (name === 'inspect') void loadGallery();
}
for (const tab of tabs) $(`tab-${tab}`).addEventListener('click', () => showTab(tab));
$('tab-train').parentElement?.addEventListener('keydown', (e) => {
  const current = tabs.findIndex((t) => $(`tab-${t}`).getAttribute('aria-selected') === 'true');
  const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
  if (!step) return;
  const next = tabs[(current + step + tabs.length) % tabs.length];
  showTab(next);
  $(`tab-${next}`).focus();
});

// ---- the model every view uses -------------------------------------------------------------
function showModel(model: ModelSummary): void {
  say(
    $('model-status'),
    `Model: ${model.label}, ${model.origin}; input ${model.input.join('x')}, ${model.numClasses} classes`,
  );
  document.body.dataset.model = model.id;
  // With a loaded checkpoint no trainable model is chosen, so any pick starts a fresh one.
  const select = $<HTMLSelectElement>('train-model');
  if (model.trainable) select.value = model.id;
  else select.selectedIndex = -1;
}

/** The model choices, from the worker's catalogue (models.ts stays out of the page's bundle). */
function fillCatalogue(catalogue: { id: string; label: string; trainable: boolean }[]): void {
  const train = $<HTMLSelectElement>('train-model');
  if (train.options.length) return;
  const torchvision = $<HTMLSelectElement>('tv-arch');
  for (const m of catalogue) (m.trainable ? train : torchvision).add(new Option(m.label, m.id));
}

// ---- backend -------------------------------------------------------------------------------
function showReport(report: BackendReport): void {
  const patched = report.capabilities.patchedKernels.length
    ? `; kernels filled by convkit: ${report.capabilities.patchedKernels.join(', ')}`
    : '';
  // Threads need a cross-origin isolated page; the report says why there is one thread.
  const oneThread = report.wasm?.singleThreadReason
    ? `; one thread: ${report.wasm.singleThreadReason}`
    : '';
  say(
    $('backend-status'),
    `Backend: ${report.backend} (tfjs '${report.tfjsName}') on ${report.device}${oneThread}${patched}`,
  );
  $('backend-status').dataset.backend = report.backend;
  const list = $('backend-skipped');
  list.replaceChildren(
    ...report.skipped.map((s) => {
      const item = document.createElement('li');
      item.textContent = `skipped ${s.backend}: ${s.reason}`;
      return item;
    }),
  );
}

async function initBackend(choice: BackendChoice): Promise<void> {
  const button = $<HTMLButtonElement>('backend-switch');
  button.disabled = true;
  say($('backend-status'), `Loading backend (${choice})…`);
  try {
    const { report, model, catalogue } = await client.request('init', { backend: choice });
    showReport(report);
    fillCatalogue(catalogue);
    showModel(model);
    document.body.dataset.ready = 'true';
  } catch (error) {
    fail($('backend-status'), error);
  } finally {
    button.disabled = false;
  }
}
$('backend-switch').addEventListener('click', () =>
  initBackend($<HTMLSelectElement>('backend-select').value as BackendChoice),
);

// ---- train ---------------------------------------------------------------------------------
const lossSeries: Series = { label: 'loss', color: '#c0392b', points: [] };
const accSeries: Series = { label: 'running accuracy', color: '#2471a3', points: [] };
const testSeries: Series = { label: 'test accuracy', color: '#1e8449', points: [] };
let stepOffset = 0;
let batchesPerEpoch = 1;

function redrawCharts(): void {
  drawChart($('chart-loss') as HTMLCanvasElement, [lossSeries], { yMin: 0, xLabel: 'steps' });
  drawChart($('chart-accuracy') as HTMLCanvasElement, [accSeries, testSeries], {
    yMin: 0,
    yMax: 1,
    xLabel: 'steps',
  });
  $('chart-loss').dataset.loss = lossSeries.points.map((p) => p.y.toFixed(5)).join(',');
}

function setTrainingButtons(state: 'idle' | 'training' | 'paused' | 'loading-data'): void {
  $<HTMLButtonElement>('train-start').disabled = state !== 'idle';
  $<HTMLButtonElement>('train-pause').disabled = state !== 'training';
  $<HTMLButtonElement>('train-resume').disabled = state !== 'paused';
  $<HTMLButtonElement>('train-stop').disabled = state === 'idle';
  $<HTMLButtonElement>('backend-switch').disabled = state !== 'idle';
  $<HTMLSelectElement>('train-model').disabled = state !== 'idle';
  document.body.dataset.training = state;
}

client.on((event) => {
  if (event.event === 'model') {
    showModel(event.model);
  } else if (event.event === 'state') {
    setTrainingButtons(event.state);
    if (event.state === 'loading-data') say($('train-status'), 'Loading Fashion-MNIST…');
    if (event.state === 'paused') say($('train-status'), 'Paused.');
  } else if (event.event === 'batch') {
    batchesPerEpoch = event.batches;
    const step = stepOffset + event.epoch * event.batches + event.batch + 1;
    lossSeries.points.push({ x: step, y: event.loss });
    accSeries.points.push({ x: step, y: event.accuracy });
    const epochs = Number($<HTMLInputElement>('train-epochs').value);
    const progress = $<HTMLProgressElement>('train-progress');
    progress.value = (event.epoch * event.batches + event.batch + 1) / (epochs * event.batches);
    say(
      $('train-status'),
      `Epoch ${event.epoch + 1}, batch ${event.batch + 1}/${event.batches}: loss ${event.loss.toFixed(4)}, running accuracy ${(100 * event.accuracy).toFixed(1)}%, ${event.stepsPerSecond < 1 ? event.stepsPerSecond.toPrecision(2) : event.stepsPerSecond.toFixed(1)} steps/s`,
    );
    redrawCharts();
  } else if (event.event === 'epoch') {
    testSeries.points.push({
      x: stepOffset + (event.epoch + 1) * batchesPerEpoch,
      y: event.valAccuracy,
    });
    const item = document.createElement('li');
    item.textContent = `epoch ${event.epoch + 1}: loss ${event.loss.toFixed(4)}, train accuracy ${(100 * event.accuracy).toFixed(1)}%, test accuracy (first 500) ${(100 * event.valAccuracy).toFixed(1)}%`;
    $('train-log').append(item);
    redrawCharts();
  } else if (event.event === 'reconstruction') {
    const figure = document.createElement('figure');
    const caption = document.createElement('figcaption');
    caption.textContent = `${event.step} steps, feature loss ${event.loss.toFixed(3)}`;
    figure.append(canvasOf(event.image, `reconstruction after ${event.step} steps`), caption);
    $('reconstruction').append(figure);
  }
});

$('train-start').addEventListener('click', async () => {
  const number = (id: string) => Number($<HTMLInputElement>(id).value);
  setTrainingButtons('training');
  stepOffset = lossSeries.points.length ? lossSeries.points[lossSeries.points.length - 1].x : 0;
  try {
    const result = await client.request('train', {
      epochs: number('train-epochs'),
      batchSize: number('train-batch'),
      lr: number('train-lr'),
      samples: number('train-samples'),
    });
    say(
      $('train-status'),
      `Finished (${result.stopReason}): ${result.steps} steps in ${result.seconds.toFixed(1)} s; test accuracy (first 500) ${(100 * result.testAccuracy).toFixed(1)}%.`,
    );
    $('train-status').dataset.accuracy = String(result.testAccuracy);
    document.body.dataset.trained = 'true';
  } catch (error) {
    fail($('train-status'), error);
  } finally {
    setTrainingButtons('idle');
  }
});
$('train-model').addEventListener('change', async () => {
  const select = $<HTMLSelectElement>('train-model');
  try {
    await client.request('setModel', { model: select.value });
    // A fresh model: the curves of the previous one no longer apply.
    for (const series of [lossSeries, accSeries, testSeries]) series.points = [];
    $('train-log').replaceChildren();
    $<HTMLProgressElement>('train-progress').value = 0;
    delete document.body.dataset.trained;
    redrawCharts();
    say($('train-status'), 'Idle.');
  } catch (error) {
    fail($('train-status'), error);
  }
});
for (const action of ['pause', 'resume', 'stop'] as const) {
  $(`train-${action}`).addEventListener('click', () =>
    client.request(action, {}).catch((error) => fail($('train-status'), error)),
  );
}

// ---- inspect -------------------------------------------------------------------------------
let galleryLoaded = false;
let current: Pixels | undefined;

async function loadGallery(): Promise<void> {
  if (galleryLoaded) return;
  galleryLoaded = true;
  try {
    const result = await client.request('testImages', { count: 12 });
    const classes = result.classes;
    $('test-gallery').replaceChildren(
      ...result.images.map((pixels, i) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'thumb';
        button.setAttribute('aria-label', `Test image ${i + 1}: ${classes[result.labels[i]]}`);
        button.append(canvasOf(greyImage(pixels, 2), classes[result.labels[i]]));
        button.addEventListener('click', () => inspect(pixels));
        return button;
      }),
    );
  } catch (error) {
    galleryLoaded = false;
    fail($('inspect-status'), error);
  }
}

async function inspect(pixels: Pixels): Promise<void> {
  current = pixels;
  say($('inspect-status'), 'Computing…');
  try {
    const result: InspectResult = await client.request('inspect', { pixels });
    showInspection(result);
    say($('inspect-status'), `Predicted: ${result.classes[result.predicted]}`);
  } catch (error) {
    fail($('inspect-status'), error);
  }
}

function showInspection(result: InspectResult): void {
  $('inspect-results').hidden = false;
  $('prediction').replaceChildren(
    ...result.probabilities.map((p, k) => {
      const item = document.createElement('li');
      const name = result.classes[k];
      item.innerHTML = `<span class="name"></span><span class="bar" style="width:${(p * 200).toFixed(0)}px"></span><span class="value">${(100 * p).toFixed(1)}%</span>`;
      (item.querySelector('.name') as HTMLElement).textContent = name;
      if (k === result.predicted) item.classList.add('top');
      return item;
    }),
  );
  $('prediction').dataset.probabilities = result.probabilities.join(',');
  $('gradcam-caption').textContent = `Grad-CAM (${result.gradCamLayer})`;
  paint($('inspect-input') as HTMLCanvasElement, result.input);
  paint($('gradcam') as HTMLCanvasElement, result.gradCam);
  paint($('saliency') as HTMLCanvasElement, result.saliency);
  $('filters').replaceChildren(
    ...result.filters.map((f) => {
      const block = document.createElement('div');
      const title = document.createElement('h4');
      title.textContent = `${f.layer}: ${f.images.length} filter images`;
      const grid = document.createElement('div');
      grid.className = 'grid';
      grid.style.gridTemplateColumns = `repeat(${Math.min(f.columns * (f.columns === 1 ? 8 : 1), 16)}, auto)`;
      grid.append(...f.images.map((image, i) => canvasOf(image, `${f.layer} filter ${i}`)));
      block.append(title, grid);
      return block;
    }),
  );
  $('feature-maps').replaceChildren(
    ...result.featureMaps.map((layer) => {
      const block = document.createElement('div');
      block.className = 'layer';
      const title = document.createElement('h4');
      title.textContent = `${layer.layer} (${layer.kind}) [${layer.shape.join(', ')}]`;
      const grid = document.createElement('div');
      grid.className = 'maps';
      grid.append(
        ...layer.images.map((image, i) => canvasOf(image, `${layer.layer} channel ${i}`)),
      );
      block.append(title, grid);
      return block;
    }),
  );
  // The layers of the model just inspected (the model may have changed since the last time).
  const select = $<HTMLSelectElement>('recon-layer');
  const layers = result.featureMaps.map((layer) => layer.layer);
  if ([...select.options].map((o) => o.value).join() !== layers.join()) {
    select.replaceChildren(
      ...result.featureMaps.map(
        (layer) => new Option(`${layer.layer} (${layer.kind})`, layer.layer),
      ),
    );
  }
}

const drawPad = new DrawPad($('draw-pad') as HTMLCanvasElement);
$('draw-use').addEventListener('click', () => inspect(drawPad.pixels()));
$('draw-clear').addEventListener('click', () => drawPad.clear());
$('inspect-upload').addEventListener('change', async () => {
  const file = $<HTMLInputElement>('inspect-upload').files?.[0];
  if (!file) return;
  try {
    await inspect(await imagePixels(file));
  } catch (error) {
    fail($('inspect-status'), error);
  }
});
$('recon-start').addEventListener('click', async () => {
  if (!current) return;
  $('reconstruction').replaceChildren();
  const button = $<HTMLButtonElement>('recon-start');
  button.disabled = true;
  say($('inspect-status'), 'Reconstructing…');
  try {
    await client.request('reconstruct', {
      pixels: current,
      layer: $<HTMLSelectElement>('recon-layer').value,
      steps: [5, 15, 40],
    });
    say($('inspect-status'), 'Reconstruction done.');
  } catch (error) {
    fail($('inspect-status'), error);
  } finally {
    button.disabled = false;
  }
});

// ---- transfer ------------------------------------------------------------------------------
function showCounts(counts: Record<string, number>): void {
  $('transfer-classes').replaceChildren(
    ...Object.entries(counts).map(([name, count]) => {
      const item = document.createElement('li');
      item.textContent = `${name}: ${count} image${count === 1 ? '' : 's'}`;
      return item;
    }),
  );
}

function showTransferPrediction(result: { classes: string[]; probabilities: number[] }): void {
  const best = result.probabilities.indexOf(Math.max(...result.probabilities));
  $('transfer-prediction').replaceChildren(
    ...result.classes.map((name, k) => {
      const item = document.createElement('li');
      item.textContent = `${name}: ${(100 * result.probabilities[k]).toFixed(1)}%`;
      if (k === best) item.classList.add('top');
      return item;
    }),
  );
  $('transfer-prediction').dataset.predicted = result.classes[best];
}

$('transfer-add').addEventListener('click', async () => {
  const input = $<HTMLInputElement>('transfer-files');
  const files = [...(input.files ?? [])];
  try {
    const { counts } = await client.request('transferAdd', {
      label: $<HTMLInputElement>('transfer-label').value,
      files,
    });
    showCounts(counts);
    input.value = '';
    say($('transfer-status'), `Added ${files.length} image${files.length === 1 ? '' : 's'}.`);
  } catch (error) {
    fail($('transfer-status'), error);
  }
});
$('transfer-clear').addEventListener('click', async () => {
  showCounts((await client.request('transferClear', {})).counts);
  $('transfer-prediction').replaceChildren();
});
$('transfer-train').addEventListener('click', async () => {
  const button = $<HTMLButtonElement>('transfer-train');
  button.disabled = true;
  say($('transfer-status'), 'Caching features and training the head…');
  delete $('transfer-status').dataset.losses;
  try {
    const result = await client.request('transferTrain', {
      epochs: Number($<HTMLInputElement>('transfer-epochs').value),
    });
    say(
      $('transfer-status'),
      `Head trained: loss ${result.losses[0].toFixed(3)} → ${result.losses[result.losses.length - 1].toFixed(3)}, training accuracy ${(100 * result.accuracy).toFixed(0)}% on ${result.classes.length} classes.`,
    );
    $('transfer-status').dataset.losses = result.losses.join(',');
  } catch (error) {
    fail($('transfer-status'), error);
  } finally {
    button.disabled = false;
  }
});
const transferPad = new DrawPad($('transfer-pad') as HTMLCanvasElement, () =>
  client
    .request('transferPredict', { pixels: transferPad.pixels() })
    .then(showTransferPrediction)
    .catch((error) => fail($('transfer-status'), error)),
);
$('transfer-pad-clear').addEventListener('click', () => transferPad.clear());
$('transfer-try').addEventListener('change', async () => {
  const file = $<HTMLInputElement>('transfer-try').files?.[0];
  if (!file) return;
  try {
    showTransferPrediction(await client.request('transferPredict', { file }));
  } catch (error) {
    fail($('transfer-status'), error);
  }
});

// ---- weights -------------------------------------------------------------------------------
const weightsName = () => $<HTMLInputElement>('weights-name').value;

function showLoaded({ keys, testAccuracy, model }: LoadResult, from: string): void {
  const accuracy =
    testAccuracy === null ? '' : `; test accuracy (first 500) ${(100 * testAccuracy).toFixed(1)}%`;
  say($('weights-status'), `Loaded ${keys} tensors of ${model.label} from ${from}${accuracy}.`);
  $('weights-status').dataset.accuracy = String(testAccuracy);
}
$('weights-save').addEventListener('click', async () => {
  try {
    const { bytes, keys } = await client.request('saveIdb', { name: weightsName() });
    say(
      $('weights-status'),
      `Saved ${keys} tensors (${(bytes / 1024).toFixed(0)} KiB safetensors) to IndexedDB as '${weightsName()}'.`,
    );
  } catch (error) {
    fail($('weights-status'), error);
  }
});
$('weights-load').addEventListener('click', async () => {
  try {
    showLoaded(await client.request('loadIdb', { name: weightsName() }), 'IndexedDB');
  } catch (error) {
    fail($('weights-status'), error);
  }
});
$('weights-download').addEventListener('click', async () => {
  try {
    const { bytes } = await client.request('exportSafetensors', {});
    const url = URL.createObjectURL(
      new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
    );
    const link = document.createElement('a');
    link.href = url;
    link.download = `${weightsName() || 'weights'}.safetensors`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say($('weights-status'), `Downloaded ${(bytes.length / 1024).toFixed(0)} KiB.`);
  } catch (error) {
    fail($('weights-status'), error);
  }
});
$('weights-upload').addEventListener('change', async () => {
  const file = $<HTMLInputElement>('weights-upload').files?.[0];
  if (!file) return;
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const result = await client.request('importSafetensors', { bytes }, [bytes.buffer]);
    showLoaded(result, file.name);
  } catch (error) {
    fail($('weights-status'), error);
  }
});

$('tv-upload').addEventListener('change', async () => {
  const input = $<HTMLInputElement>('tv-upload');
  const file = input.files?.[0];
  if (!file) return;
  const status = $('tv-status');
  delete status.dataset.model;
  say(status, `Loading ${file.name}…`);
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const result = await client.request(
      'importTorchvision',
      { bytes, file: file.name, architecture: $<HTMLSelectElement>('tv-arch').value },
      [bytes.buffer],
    );
    say(
      status,
      `Loaded ${result.model.label} from ${file.name} (${result.format}, ${result.keys} tensors, ${result.model.numClasses} classes): it is now the model of the inspect and transfer views.`,
    );
    status.dataset.model = result.model.id;
  } catch (error) {
    fail(status, error);
  } finally {
    input.value = '';
  }
});

redrawCharts();
void initBackend('auto');
