import {
  checkLayerFixtures,
  type LayerFixtureCase,
  type LayerFixtureFile,
} from '@convkit/tooling/layer-conformance';
import fixture from './conv-pool.json';
import { LAYER_TYPES, moduleFromJSON } from '../from-json';
import type { Module, ModuleJSON } from '../module';

/** Test-only: the PyTorch cases of fixtures/conv_pool.py. */
export const convPoolFixture = fixture as unknown as LayerFixtureFile;

/** Register the conformance tests of the cases whose name starts with `prefix`. */
export function checkConvPoolCases(prefix: string | RegExp): void {
  const match = (name: string) =>
    typeof prefix === 'string' ? name.startsWith(prefix) : prefix.test(name);
  checkLayerFixtures(convPoolFixture, {
    filter: match,
    build: (c: LayerFixtureCase) => {
      const Type = LAYER_TYPES[c.convkit ?? c.module];
      if (!Type) throw new Error(`no convkit layer for ${c.module}`);
      return new Type(c.options) as Module;
    },
    fromJSON: (json) => moduleFromJSON<Module>(json as ModuleJSON),
  });
}
