require('@tensorflow/tfjs-backend-cpu');
const tf = require('@tensorflow/tfjs-core');
const data = require('@convkit/data');
const { run } = require('./smoke.cjs');

run(tf, data).then((result) => console.log(JSON.stringify(result)));
