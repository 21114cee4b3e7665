import { defineConvkitConfig } from '@convkit/tooling/tsup';

export default defineConvkitConfig();
