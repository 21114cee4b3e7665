// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's second example (the browser one) exactly as written (the code between the
// two marker comments is the README's second ```ts block, checked below so the two cannot
// drift). The wrapping: a page's relative URL needs an origin, which Node has not, so a local
// HTTP server on 127.0.0.1 serves a real safetensors file at /weights/model.safetensors and
// `fetch` resolves relative URLs against it (Node's own fetch does the request).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { afterAll, expect, it } from 'vitest';
import { writeSafetensors as writeForSetup } from './index';

const tfSetup = await import('@tensorflow/tfjs-core');
const served = {
  'features.0.weight': tfSetup.tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]),
  'fc.weight': tfSetup.tensor([0.5, -1.5, 2.5, 3], [2, 2]),
  'fc.bias': tfSetup.tensor([7, -8], [2]),
};
const file = writeForSetup(served);
tfSetup.dispose(Object.values(served));
const requests: string[] = [];
const server = createServer((req, res) => {
  requests.push(req.url ?? '');
  if (req.url !== '/weights/model.safetensors') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(file);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const nodeFetch = globalThis.fetch;
globalThis.fetch = (input, init) =>
  nodeFetch(typeof input === 'string' ? new URL(input, origin) : input, init);

afterAll(async () => {
  globalThis.fetch = nodeFetch;
  await new Promise((resolve) => server.close(resolve));
});

// README example start
import '@tensorflow/tfjs-backend-cpu'; // or any tfjs backend: the tensors are created on it
import { readSafetensors, readSafetensorsFromResponse, writeSafetensors } from '@convkit/weights';

const { tensors } = await readSafetensorsFromResponse(await fetch('/weights/model.safetensors'), {
  select: ['fc.weight', 'fc.bias'], // only these are kept; the other bytes are skipped
});
const bytes: Uint8Array = writeSafetensors(tensors, { format: 'pt' });
const again = readSafetensors(bytes);
// README example end

it('the example above is the README example, verbatim', () => {
  expect(
    readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url), { block: 2 }),
  ).toBeNull();
});

it('keeps only the selected tensors and round-trips them', async () => {
  expect(requests).toEqual(['/weights/model.safetensors']);
  expect(Object.keys(tensors).sort()).toEqual(['fc.bias', 'fc.weight']);
  expect(await tensors['fc.weight'].array()).toEqual([
    [0.5, -1.5],
    [2.5, 3],
  ]);
  expect(again.metadata).toEqual({ format: 'pt' });
  expect(await again.tensors['fc.bias'].array()).toEqual([7, -8]);
});
