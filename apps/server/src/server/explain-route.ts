import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  checkExplainOptions,
  EXPLAIN_METHODS,
  type ExplainMethod,
  explainInput,
  explanationJson,
} from '../explain';
import {
  DEFAULT_IMAGE_LIMITS,
  decodeLimited,
  type ImageLimits,
  InputError,
  preprocess,
} from '../inference';
import type { LoadedModel } from '../model-files';
import { multipartFiles } from './multipart-files';

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

/**
 * `POST /v1/models/{name}/explain`: one PNG / JPEG image (the body, or one multipart file);
 * `?method=gradcam|saliency`, `?target=` (default the predicted class), `?layer=` (Grad-CAM,
 * default the last conv). Answers the heatmap over the input as `image/png`, or the heatmap
 * values as JSON when the request accepts `application/json` (and not `image/png` first).
 * Explanations run one at a time per process, outside the predict micro-batcher (a gradient pass
 * costs a few forwards); `maxWaiting` bounds how many wait (503 beyond).
 */
export function explainRoute(options: { imageLimits?: ImageLimits; maxWaiting?: number } = {}) {
  const limits = options.imageLimits ?? DEFAULT_IMAGE_LIMITS;
  const maxWaiting = options.maxWaiting ?? 16;
  let chain: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  return (app: FastifyInstance, models: ReadonlyMap<string, LoadedModel>) => {
    app.post<{
      Params: { name: string };
      Querystring: { method?: ExplainMethod; target?: number; layer?: string };
      Body: unknown;
    }>(
      '/v1/models/:name/explain',
      {
        schema: {
          summary:
            'Explain a prediction: a Grad-CAM or saliency heatmap over the image (PNG), or its values (JSON)',
          params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
          querystring: {
            type: 'object',
            properties: {
              method: { type: 'string', enum: [...EXPLAIN_METHODS], default: 'gradcam' },
              target: {
                type: 'integer',
                minimum: 0,
                description: 'class index; default the predicted class',
              },
              layer: {
                type: 'string',
                minLength: 1,
                maxLength: 256,
                description:
                  'Grad-CAM: state-dict path of a layer with a spatial output; default the last conv',
              },
            },
            additionalProperties: false,
          },
          body: {
            content: {
              'image/png': { schema: { description: 'one PNG image (bytes)' } },
              'image/jpeg': { schema: { description: 'one JPEG image (bytes)' } },
              'multipart/form-data': { schema: { description: 'one PNG / JPEG file' } },
            },
          },
          response: {
            200: {
              description:
                'image/png: the heatmap (inferno) over the input; application/json: the heatmap values',
              content: {
                'image/png': { schema: { type: 'string', format: 'binary' } },
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      model: { type: 'string' },
                      method: { type: 'string' },
                      layer: { type: 'string', nullable: true },
                      target: { type: 'integer' },
                      label: { type: 'string' },
                      probability: { type: 'number' },
                      predicted: { type: 'integer' },
                      height: { type: 'integer' },
                      width: { type: 'integer' },
                      heatmap: {
                        type: 'array',
                        items: { type: 'array', items: { type: 'number' } },
                      },
                    },
                  },
                },
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
      async (request, reply) => {
        const model = models.get(request.params.name);
        if (!model) {
          throw new InputError(
            `unknown model '${request.params.name}'; serving ${[...models.keys()].join(', ')}`,
            404,
          );
        }
        const { method, target, layer } = request.query;
        // Refuse a bad layer or class before reading the image.
        checkExplainOptions(model, { method, target, layer });
        const input = await readOneImage(request, model, limits);
        if (waiting >= maxWaiting) {
          reply.header('retry-after', '1');
          throw new InputError(
            `the explain queue is full (${waiting} of ${maxWaiting} waiting); retry later`,
            503,
          );
        }
        waiting++;
        const run = chain.then(() => explainInput(model, input, { method, target, layer }));
        chain = run.catch(() => {});
        let explanation: Awaited<typeof run>;
        try {
          explanation = await run;
        } finally {
          waiting--;
        }
        if (wantsJson(request)) return { model: model.name, ...explanationJson(explanation) };
        reply.type('image/png');
        return Buffer.from(explanation.png);
      },
    );
  };
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = String(request.headers.accept ?? '').toLowerCase();
  const json = accept.indexOf('application/json');
  const png = accept.indexOf('image/png');
  return json >= 0 && (png < 0 || json < png);
}

async function readOneImage(
  request: FastifyRequest,
  model: LoadedModel,
  limits: ImageLimits,
): Promise<Float32Array> {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const channels = model.inputSize[2] === 1 ? 1 : 3;
  if (type === 'multipart/form-data') {
    let input: Float32Array | null = null;
    for await (const { name, bytes } of multipartFiles(request)) {
      if (input) throw new InputError('explain takes one image per request; the body holds more');
      input = preprocess(await decodeLimited(bytes, channels, name, limits), model);
    }
    if (!input) throw new InputError('the multipart body holds no image file');
    return input;
  }
  if (!Buffer.isBuffer(request.body)) {
    throw new InputError(
      `unsupported content type '${type}' for explain; send image/png, image/jpeg or multipart/form-data`,
      415,
    );
  }
  if (request.body.length === 0)
    throw new InputError('empty request body; expected PNG or JPEG bytes');
  return preprocess(await decodeLimited(request.body, channels, 'body', limits), model);
}
