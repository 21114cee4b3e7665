import { defineConvkitConfig } from '@convkit/tooling/tsup';

// The worker-thread entry is built beside the barrel: threadRunner starts it by file name.
export default defineConvkitConfig({ entry: ['src/index.ts', 'src/thread-worker.ts'] });
