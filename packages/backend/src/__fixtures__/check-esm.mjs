import * as tf from '@tensorflow/tfjs-core';
import * as convkit from '@convkit/backend';
import helper from './small-net.cjs';

console.log(JSON.stringify(await helper.run(tf, convkit)));
