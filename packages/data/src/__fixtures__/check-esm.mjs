import { createRequire } from 'node:module';
import * as data from '@convkit/data';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

const { run } = createRequire(import.meta.url)('./smoke.cjs');
run(tf, data).then((result) => console.log(JSON.stringify(result)));
