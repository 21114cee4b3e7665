/**
 * Placeholder replaced by the WASM training kernels work: registers nothing yet.
 */
export function registerWasmTrainingKernels(): string[] {
  return [];
}
