// The entry of each worker thread of `threadRunner`: loads the objective module, then runs the
// trials the pool sends, one at a time. Each thread loads its own copy of tfjs (its own engine
// and backend), which the module's optional `setup()` selects.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { workerId } from './internal/worker-id';
import { executeTrial, type Objective, type TrialTask } from './trial';

interface ObjectiveModule {
  setup?: () => unknown;
  [name: string]: unknown;
}

async function main(): Promise<void> {
  const { moduleUrl, exportName } = workerData as { moduleUrl: string; exportName: string };
  const port = parentPort!;
  const mod = (await import(moduleUrl)) as ObjectiveModule;
  const objective = (mod[exportName] ?? (exportName === 'objective' ? mod.default : undefined)) as
    | Objective
    | undefined;
  if (typeof objective !== 'function') {
    throw new Error(
      `threadRunner: module ${moduleUrl} has no function export '${exportName}' (exports: ${Object.keys(mod).join(', ') || 'none'})`,
    );
  }
  if (typeof mod.setup === 'function') await mod.setup();
  const id = await workerId(threadId);
  port.on('message', async (task: TrialTask) => {
    port.postMessage({ type: 'done', record: await executeTrial(task, objective, id) });
  });
  port.postMessage({ type: 'ready' });
}

void main();
