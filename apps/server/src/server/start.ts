import type { ImageLimits } from '../inference';
import { type LoadedModel, loadModelDir } from '../model-files';
import { buildServer } from './app';

export interface StartServerOptions {
  models: { name?: string; dir: string }[];
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
  for (const spec of options.models) models.push(await loadModelDir(spec.dir, spec.name));
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name))
      throw new Error(`two models are named '${m.name}'; name them with --model NAME=DIR`);
    names.add(m.name);
  }
  const { app, drain } = await buildServer({
    models,
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
    `convkit serve: listening on ${address} with ${models.map((m) => `${m.name} (${m.architecture})`).join(', ')}`,
  );
  if (options.web) options.log(`convkit serve: serving the web app from ${options.web} at /`);
  let draining = false;
  const shutdown = async (signal: string) => {
    if (draining) return;
    draining = true;
    app.log.info({ signal }, 'draining');
    await drain();
    for (const m of models) m.model.dispose();
    app.log.info('drained; exiting');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
