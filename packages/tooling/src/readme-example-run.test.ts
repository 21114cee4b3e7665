// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks what it claims.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { expect, it } from 'vitest';

// README example start
import { assertAllClose } from '@convkit/tooling/testing';
assertAllClose([1, 2.000001], [1, 2], { rtol: 1e-5, label: 'example' });
// README example end

it('the example above is the README example, verbatim', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('passes within rtol and throws, naming the label, outside it', () => {
  expect(() => assertAllClose([1, 2.001], [1, 2], { rtol: 1e-5, label: 'example' })).toThrow(
    /^example: /,
  );
});
