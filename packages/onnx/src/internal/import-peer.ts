/**
 * Import one of this package's optional peers (onnxruntime-node / -web) at run time, invisible
 * to bundlers. It must live in this package: a dynamic import resolves from the file that makes
 * it, and under pnpm's strict layout @convkit/backend's `importOptional` cannot see our peers
 * (Node built-ins go through `importOptional`).
 */
export function importPeer<T = any>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}
