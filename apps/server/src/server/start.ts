import type { ImageLimits } from '../inference';
import { type EngineFactory, type InferenceEngine, tfjsEngine } from '../inference-engine';
import { type LoadedModel, loadModelDir } from '../model-files';
import { buildServer } from './app';

export interface StartServerOptions {
  models: { name?: string; dir: string }[];
  /** Each model's inference engine (`prepareEngine`); default tfjs. */
  makeEngine?: EngineFactory;
  host: string;
  port: number;
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  timeoutMs: number;
  bodyLimit: number;
  imageLimits: ImageLimits;
  /** A static directory (the web app's build) served at `/`; none when undefined. */
  web?: string;
  log: (line: string) => void;
}

/**
 * `convkit serve`: load every model, listen, and on SIGTERM / SIGINT drain (readiness turns 503,
 * new connections are refused, in-flight and queued requests finish) and exit 0.
 */
export async function startServer(options: StartServerOptions): Promise<void> {
  const models: LoadedModel[] = [];
  const engines = new Map<string, InferenceEngine>();
  const release = async () => {
    for (const engine of engines.values()) await engine.dispose();
    for (const m of models) m.model.dispose();
  };
  try {
    await loadAll(options, models, engines);
  } catch (error) {
    await release();
    throw error;
  }
  const { app, drain } = await buildServer({
    models,
    engines,
    maxBatch: options.maxBatch,
    maxWaitMs: options.maxWaitMs,
    maxQueue: options.maxQueue,
    timeoutMs: options.timeoutMs,
    bodyLimit: options.bodyLimit,
    imageLimits: options.imageLimits,
    web: options.web,
  });
  const address = await app.listen({ host: options.host, port: options.port });
  options.log(
    `convkit serve: listening on ${address} with ${models.map((m) => `${m.name} (${m.architecture}, ${engines.get(m.name)?.description})`).join(', ')}`,
  );
  if (options.web) options.log(`convkit serve: serving the web app from ${options.web} at /`);
  let draining = false;
  const shutdown = async (signal: string) => {
    if (draining) return;
    draining = true;
    app.log.info({ signal }, 'draining');
    await drain();
    await release();
    app.log.info('drained; exiting');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** Load every model and build its engine; refuse two models with one name. */
async function loadAll(
  options: StartServerOptions,
  models: LoadedModel[],
  engines: Map<string, InferenceEngine>,
): Promise<void> {
  const makeEngine = options.makeEngine ?? (async (m: LoadedModel) => tfjsEngine(m));
  for (const spec of options.models) {
    const model = await loadModelDir(spec.dir, spec.name);
    models.push(model);
    if (engines.has(model.name))
      throw new Error(`two models are named '${model.name}'; name them with --model NAME=DIR`);
    engines.set(model.name, await makeEngine(model));
  }
}
