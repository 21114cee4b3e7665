import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import * as tf from '@tensorflow/tfjs-core';
import Fastify, {
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import {
  DEFAULT_IMAGE_LIMITS,
  decodeLimited,
  type ImageLimits,
  InputError,
  preprocess,
  topK,
} from '../inference';
import { ENGINES, type InferenceEngine, tfjsEngine } from '../inference-engine';
import type { LoadedModel } from '../model-files';
import { MicroBatcher, QueueFullError } from './batcher';
import { explainRoute } from './explain-route';
import { MAX_TEXT_FIELD_BYTES, multipartFiles } from './multipart-files';

export interface ServerOptions {
  models: LoadedModel[];
  /**
   * The engine that answers `predict` for each model, by name (`--engine`); default tfjs. The
   * explain route always runs the tfjs model: it needs gradients.
   */
  engines?: ReadonlyMap<string, InferenceEngine>;
  /** Largest micro-batch (images). Default 32. */
  maxBatch?: number;
  /** Longest wait for a batch to fill, ms. Default 5. */
  maxWaitMs?: number;
  /** Most queued images per model before 503. Default 256. */
  maxQueue?: number;
  /** Per-request timeout, ms. Default 10000. */
  timeoutMs?: number;
  /** Largest request body, bytes. Default 8 MiB. */
  bodyLimit?: number;
  imageLimits?: ImageLimits;
  /** Most images (files or tensor rows) in one request. Default 64. */
  maxImagesPerRequest?: number;
  /** Fastify's logger option (pino). Default: info level JSON lines on stdout. */
  logger?: FastifyServerOptions['logger'];
  /**
   * A directory of static files (the web app's production build) served at `/`: `index.html`
   * at `/`, files by path, and `index.html` for any other GET path outside the API that names no
   * file (SPA routes). Default: none.
   */
  web?: string;
}

/** Paths that belong to the API: never answered from the web directory, nor by its fallback. */
const API_PATHS = ['/v1', '/healthz', '/readyz', '/metrics', '/openapi.json'];

function isApiPath(rawPath: string): boolean {
  let path = rawPath;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    // a malformed escape: judge the raw path
  }
  return API_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

/** The web directory, absolute, checked: a directory holding index.html. */
export function checkWebDir(dir: string): string {
  const root = resolve(dir);
  const info = statSync(root, { throwIfNoEntry: false });
  if (!info?.isDirectory()) throw new Error(`web directory '${dir}' does not exist`);
  if (!statSync(resolve(root, 'index.html'), { throwIfNoEntry: false })?.isFile())
    throw new Error(`web directory '${dir}' has no index.html (build the web app first)`);
  return root;
}

/** Where routes of later packages go: each gets the app and the served models. */
export type RoutePlugin = (app: FastifyInstance, models: ReadonlyMap<string, LoadedModel>) => void;

const errorSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    requestId: { type: 'string' },
  },
  required: ['statusCode', 'error', 'message'],
} as const;

const predictionSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      label: { type: 'string' },
      index: { type: 'integer' },
      probability: { type: 'number' },
    },
  },
} as const;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * The HTTP inference server (Fastify): `POST /v1/models/:name/predict` (PNG / JPEG body,
 * multipart files, or a JSON tensor), `GET /v1/models`, `/healthz`, `/readyz`, `/metrics`
 * (Prometheus) and `/openapi.json` (generated from the route schemas). Requests for one model
 * are micro-batched; see `ServerOptions` for the limits. `extraRoutes` is where later route
 * plugins (`/v1/models/:name/explain`) attach.
 */
export async function buildServer(
  options: ServerOptions,
  extraRoutes: RoutePlugin[] = [],
): Promise<{ app: FastifyInstance; drain(): Promise<void> }> {
  const maxBatch = options.maxBatch ?? 32;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const bodyLimit = options.bodyLimit ?? 8 * 1024 * 1024;
  const limits = options.imageLimits ?? DEFAULT_IMAGE_LIMITS;
  const maxImages = options.maxImagesPerRequest ?? 64;
  const models = new Map(options.models.map((m) => [m.name, m]));
  const engines = new Map(
    options.models.map((m) => [m.name, options.engines?.get(m.name) ?? tfjsEngine(m)]),
  );
  let ready = true;

  const app = Fastify({
    logger: options.logger ?? { level: 'info' },
    bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    ajv: { customOptions: { allErrors: false } },
  });

  // Metrics: a registry per server (several servers may live in one process, as in the tests).
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'convkit_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'convkit_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'convkit_inference_batch_size',
    help: 'Images per inference batch',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'convkit_inference_batch_seconds',
    help: 'Inference time per batch',
    labelNames: ['model'],
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: 'convkit_inference_queue_depth',
    help: 'Images waiting for inference',
    labelNames: ['model'],
    registers: [registry],
    collect() {
      for (const [name, b] of batchers) this.set({ model: name }, b.queued);
    },
  });
  void queueDepth;
  new Gauge({
    name: 'convkit_tfjs_tensors',
    help: 'Live tfjs tensors (tf.memory().numTensors)',
    registers: [registry],
    collect() {
      this.set(tf.memory().numTensors);
    },
  });

  const batchers = new Map(
    [...engines].map(([name, engine]) => [
      name,
      new MicroBatcher<Float32Array, Float32Array>({
        run: (inputs) => engine.predictProbabilities(inputs),
        maxBatch,
        maxWaitMs: options.maxWaitMs ?? 5,
        maxQueue: options.maxQueue ?? 256,
        onBatch: (size, seconds) => {
          batchSize.observe({ model: name }, size);
          batchSeconds.observe({ model: name }, seconds);
        },
      }),
    ]),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'convkit inference server',
        version: '1.0.0',
        description: 'Image classification with convkit models, micro-batched.',
      },
    },
  });
  // Text fields are counted by multipartFiles (MAX_TEXT_FIELDS), not by the parser: the
  // parser's fields limit reached the route as a 'Premature close' of the next part, which
  // cannot be told from a body cut short.
  const multipartLimits = {
    fileSize: bodyLimit,
    files: maxImages,
    fieldSize: MAX_TEXT_FIELD_BYTES,
  };
  await app.register(multipart, { limits: multipartLimits });
  // Raw image bodies: the bytes as a Buffer, decoded in the handler.
  app.addContentTypeParser(
    ['image/png', 'image/jpeg', 'application/octet-stream'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', String(request.id));
    // While draining, close each connection after its response, so keep-alive sockets do not
    // hold the shutdown open.
    if (!ready) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(
    (
      error: Error & { statusCode?: number; code?: string; validation?: unknown },
      request,
      reply,
    ) => {
      let status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
      let message = error.message;
      if (error.validation) {
        status = 400;
        message = `invalid request: ${error.message}`;
      }
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        message = `unsupported content type '${request.headers['content-type'] ?? ''}'; send image/png, image/jpeg, multipart/form-data or application/json`;
      }
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.code === 'FST_REQ_FILE_TOO_LARGE') {
        status = 413;
        message = `request body too large; the limit is ${bodyLimit} bytes`;
      }
      if (error.code === 'FST_FILES_LIMIT') {
        // The multipart parser's own words are 'reach files limit'.
        message = `more than ${multipartLimits.files} images in one request`;
      }
      if (error instanceof QueueFullError) {
        reply.header('retry-after', '1');
      }
      if (status >= 500 && !(error instanceof QueueFullError) && status !== 503) {
        request.log.error({ err: error }, 'request failed');
      } else {
        request.log.info({ status, reason: message }, 'request refused');
      }
      return reply.status(status).send({
        statusCode: status,
        error: STATUS_TEXT[status] ?? 'Error',
        message,
        requestId: String(request.id),
      });
    },
  );
  const webRoot = options.web === undefined ? undefined : checkWebDir(options.web);
  if (webRoot) {
    // GET / HEAD /* from the web directory; the API's routes are more specific, so they win.
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: 'index.html' });
  }
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    // SPA fallback: a client-side route (no file extension in its last segment) outside the API.
    if (
      webRoot &&
      (request.method === 'GET' || request.method === 'HEAD') &&
      !isApiPath(path) &&
      !path.slice(path.lastIndexOf('/') + 1).includes('.')
    ) {
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    return reply.status(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `no route ${request.method} ${request.url}`,
      requestId: String(request.id),
    });
  });

  const modelInfo = (m: LoadedModel) => ({
    name: m.name,
    architecture: m.architecture,
    engine: engines.get(m.name)?.engine,
    inputSize: m.inputSize,
    mean: m.mean,
    std: m.std,
    classes: m.classNames,
    parameters: m.parameters,
    epoch: m.epoch,
  });
  const modelInfoSchema = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      architecture: { type: 'string' },
      engine: { type: 'string', enum: [...ENGINES] },
      inputSize: { type: 'array', items: { type: 'integer' } },
      mean: { type: 'array', items: { type: 'number' } },
      std: { type: 'array', items: { type: 'number' } },
      classes: { type: 'array', items: { type: 'string' } },
      parameters: { type: 'integer' },
      epoch: { type: 'integer' },
    },
  } as const;

  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'The served models with their input size, normalization and classes',
        response: {
          200: {
            type: 'object',
            properties: { models: { type: 'array', items: modelInfoSchema } },
          },
        },
      },
    },
    async () => ({ models: [...models.values()].map(modelInfo) }),
  );

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: models loaded and not draining',
        response: {
          200: {
            type: 'object',
            properties: { status: { type: 'string' }, models: { type: 'integer' } },
          },
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      if (!ready) {
        return reply.status(503).send({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'draining',
          requestId: String(request.id),
        });
      }
      return { status: 'ready', models: models.size };
    },
  );
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', hide: false } },
    async (_request, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const predictBody = {
    type: 'object',
    description:
      "A JSON tensor of model inputs, already preprocessed (NHWC, normalized with the model's mean / std): data holds N*H*W*C numbers, row-major. Or send PNG / JPEG bytes (image/png, image/jpeg) or multipart/form-data files.",
    properties: {
      shape: {
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        minItems: 4,
        maxItems: 4,
      },
      data: { type: 'array', items: { type: 'number' }, maxItems: 50_000_000 },
    },
    required: ['shape', 'data'],
    additionalProperties: false,
  } as const;

  app.post<{
    Params: { name: string };
    Querystring: { topK?: number };
    Body: unknown;
  }>(
    '/v1/models/:name/predict',
    {
      schema: {
        summary: 'Classify images: top-k classes with probabilities per image',
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        querystring: {
          type: 'object',
          properties: { topK: { type: 'integer', minimum: 1, maximum: 1000, default: 5 } },
          additionalProperties: false,
        },
        // Per content type: JSON tensors are validated by the schema; image bytes and multipart
        // files are checked in the handler (header dimensions before decoding).
        body: {
          content: {
            'application/json': { schema: predictBody },
            'image/png': { schema: { description: 'one PNG image (bytes)' } },
            'image/jpeg': { schema: { description: 'one JPEG image (bytes)' } },
            'multipart/form-data': {
              schema: { description: 'one or more PNG / JPEG files, any field name' },
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              model: { type: 'string' },
              predictions: { type: 'array', items: predictionSchema },
            },
          },
          400: errorSchema,
          404: errorSchema,
          413: errorSchema,
          415: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request) => {
      const model = models.get(request.params.name);
      if (!model) {
        throw new InputError(
          `unknown model '${request.params.name}'; serving ${[...models.keys()].join(', ')}`,
          404,
        );
      }
      const inputs = await readInputs(request, model);
      const batcher = batchers.get(model.name)!;
      const probabilities = await batcher.submit(inputs, timeoutMs);
      const k = request.query.topK ?? 5;
      return {
        model: model.name,
        predictions: probabilities.map((p) => topK(p, model.classNames, k)),
      };
    },
  );

  async function readInputs(request: FastifyRequest, model: LoadedModel): Promise<Float32Array[]> {
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const channels = model.inputSize[2] === 1 ? 1 : 3;
    if (type === 'multipart/form-data') {
      const inputs: Float32Array[] = [];
      // At most maxImages files: the parser's files limit refuses more (413).
      for await (const { name, bytes } of multipartFiles(request)) {
        inputs.push(preprocess(await decodeLimited(bytes, channels, name, limits), model));
      }
      if (inputs.length === 0) throw new InputError('the multipart body holds no image file');
      return inputs;
    }
    if (Buffer.isBuffer(request.body)) {
      if (request.body.length === 0)
        throw new InputError('empty request body; expected PNG or JPEG bytes');
      const image = await decodeLimited(request.body, channels, 'body', limits);
      return [preprocess(image, model)];
    }
    if (type !== 'application/json') {
      throw new InputError(`unsupported content type '${type}'`, 415);
    }
    const { shape, data } = request.body as { shape: number[]; data: number[] };
    const [n, h, w, c] = shape;
    const [mh, mw, mc] = model.inputSize;
    if (h !== mh || w !== mw || c !== mc) {
      throw new InputError(
        `tensor shape [${shape}] does not fit model '${model.name}': expected [N, ${mh}, ${mw}, ${mc}]`,
      );
    }
    if (n > maxImages)
      throw new InputError(`more than ${maxImages} images in one request (N = ${n})`, 413);
    const per = h * w * c;
    if (data.length !== n * per) {
      throw new InputError(
        `tensor data has ${data.length} values; shape [${shape}] needs ${n * per}`,
      );
    }
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        throw new InputError(`tensor data[${i}] is ${data[i]}; expected a finite number`);
    }
    return Array.from({ length: n }, (_, i) =>
      Float32Array.from(data.slice(i * per, (i + 1) * per)),
    );
  }

  explainRoute({ imageLimits: limits })(app, models);
  for (const plugin of extraRoutes) plugin(app, models);

  return {
    app,
    /** Stop answering ready, finish queued and in-flight requests, then close the server. */
    async drain() {
      ready = false;
      await app.close();
      await Promise.all([...batchers.values()].map((b) => b.idle()));
    },
  };
}
