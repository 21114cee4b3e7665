const tf = require('@tensorflow/tfjs-core');
const convkit = require('@convkit/backend');
const { run } = require('./small-net.cjs');

run(tf, convkit).then((result) => console.log(JSON.stringify(result)));
