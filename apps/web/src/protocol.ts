/**
 * The messages between the page (main.ts) and the compute worker (worker.ts). Every request
 * carries an id; the worker answers it once with `{ id, ok, result | error }`, and streams
 * `WorkerEvent`s (training progress, reconstruction snapshots) without an id.
 */
import type { BackendReport } from '@convkit/backend';
import type { RgbaImage } from '@convkit/visualization';

export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'cpu';

/** A 28x28 grey image, values in [0, 1], row-major. */
export type Pixels = Float32Array;

export interface TrainSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Training images used per epoch (the first ones of the 60 000). */
  samples: number;
}

/** The model every view uses, as the page shows it. */
export interface ModelSummary {
  id: string;
  label: string;
  /** Trained in the app on Fashion-MNIST; false for a loaded torchvision checkpoint. */
  trainable: boolean;
  numClasses: number;
  /** 'fresh', 'trained here', or where its weights came from (a file or IndexedDB name). */
  origin: string;
  /** The network's input side and channels (28x28x1, or 112x112x3 for torchvision). */
  input: [number, number, number];
}

export interface LayerMaps {
  layer: string;
  kind: string;
  shape: number[];
  images: RgbaImage[];
}

export interface InspectResult {
  /** The class names of the current model (Fashion-MNIST's, or `class k`). */
  classes: string[];
  probabilities: number[];
  predicted: number;
  filters: { layer: string; images: RgbaImage[]; columns: number }[];
  featureMaps: LayerMaps[];
  gradCam: RgbaImage;
  /** The module Grad-CAM explains. */
  gradCamLayer: string;
  saliency: RgbaImage;
  /** The image as the network sees it (resized), before normalization. */
  input: RgbaImage;
}

/** What loading weights reports: the test accuracy only for a model trained on Fashion-MNIST. */
export interface LoadResult {
  keys: number;
  testAccuracy: number | null;
  model: ModelSummary;
}

export interface Requests {
  init: {
    req: { backend: BackendChoice };
    res: {
      report: BackendReport;
      numTensors: number;
      model: ModelSummary;
      /** Every model the app knows (models.ts), for the page's choices. */
      catalogue: { id: string; label: string; trainable: boolean }[];
    };
  };
  /** A fresh model of a trainable kind (`models.ts`); the old one and any transfer head go. */
  setModel: { req: { model: string }; res: ModelSummary };
  train: {
    req: TrainSettings;
    res: { stopReason: string; steps: number; seconds: number; testAccuracy: number };
  };
  pause: { req: Record<string, never>; res: { paused: boolean } };
  resume: { req: Record<string, never>; res: { paused: boolean } };
  stop: { req: Record<string, never>; res: { stopping: boolean } };
  testImages: {
    req: { count: number };
    res: { images: Pixels[]; labels: number[]; classes: string[] };
  };
  inspect: { req: { pixels: Pixels }; res: InspectResult };
  reconstruct: { req: { pixels: Pixels; layer: string; steps: number[] }; res: { done: true } };
  transferAdd: {
    req: { label: string; files: Blob[] };
    res: { counts: Record<string, number> };
  };
  transferClear: { req: Record<string, never>; res: { counts: Record<string, number> } };
  transferTrain: {
    req: { epochs: number };
    res: { losses: number[]; accuracy: number; classes: string[] };
  };
  transferPredict: {
    req: { pixels?: Pixels; file?: Blob };
    res: { classes: string[]; probabilities: number[] };
  };
  saveIdb: { req: { name: string }; res: { bytes: number; keys: number } };
  loadIdb: { req: { name: string }; res: LoadResult };
  exportSafetensors: { req: Record<string, never>; res: { bytes: Uint8Array } };
  importSafetensors: { req: { bytes: Uint8Array }; res: LoadResult };
  /** A torchvision checkpoint (PyTorch layouts) becomes the model; `architecture` or 'auto'. */
  importTorchvision: {
    req: { bytes: Uint8Array; file: string; architecture: string };
    res: LoadResult & { format: 'safetensors' | 'pth' };
  };
  memory: { req: Record<string, never>; res: { numTensors: number; backend: string } };
}

export type RequestType = keyof Requests;

// A request's fields are spread beside its `id` and `type` (WorkerRequest): a field of either
// name would overwrite them and the reply would never find its request. Checked when compiling.
type ClashingRequests = {
  [K in RequestType]: [Extract<keyof Requests[K]['req'], 'id' | 'type'>] extends [never]
    ? never
    : K;
}[RequestType];
const noClash: [ClashingRequests] extends [never] ? true : never = true;
void noClash;

export type WorkerRequest = {
  [K in RequestType]: { id: number; type: K } & Requests[K]['req'];
}[RequestType];

export type WorkerEvent =
  | {
      event: 'batch';
      epoch: number;
      batch: number;
      batches: number;
      loss: number;
      accuracy: number;
      stepsPerSecond: number;
    }
  | { event: 'epoch'; epoch: number; loss: number; accuracy: number; valAccuracy: number }
  | { event: 'state'; state: 'loading-data' | 'training' | 'paused' | 'idle' }
  | { event: 'reconstruction'; step: number; loss: number; image: RgbaImage }
  | { event: 'model'; model: ModelSummary };

export type WorkerReply =
  | { id: number; ok: true; result: unknown; numTensors: number }
  | { id: number; ok: false; error: string; numTensors: number };
