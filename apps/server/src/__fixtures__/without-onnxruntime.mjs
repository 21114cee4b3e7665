// `node --import <this file> dist/cli.js ...`: the CLI as it runs where onnxruntime-node is not
// installed. A module resolve hook answers an import of onnxruntime-node as Node does for a
// package that is not there (ERR_MODULE_NOT_FOUND); everything else resolves as usual.
import { register } from 'node:module';

const hook = `
export async function resolve(specifier, context, next) {
  if (specifier === 'onnxruntime-node' || specifier.startsWith('onnxruntime-node/')) {
    const error = new Error("Cannot find package 'onnxruntime-node' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
