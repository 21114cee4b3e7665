import * as tf from '@tensorflow/tfjs-core';
import { reluGradientConfig } from './wasm/relu';

/**
 * tfjs-core's Node entry registers no gradients and no chained ops (`x.add(y)`); its browser
 * entry does. Importing these two files registers them into the engine on globalThis, once.
 * The build bundles them (see tsup.config.ts) because plain Node cannot load them directly.
 */
export async function registerGradients(): Promise<void> {
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  await import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
  // ReLU's, as one kernel where the backend has it (wasm/relu.ts); the same formula elsewhere.
  tf.registerGradient(reluGradientConfig);
}
