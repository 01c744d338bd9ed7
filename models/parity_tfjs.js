// Reference run of a TF.js graph model (MoveNet) with pure-JS TensorFlow.js on the cpu backend.
// Used by models/parity.py; the packages are installed by `bash models/build.sh parity` into
// models/.cache/js (npm install @tensorflow/tfjs-core, -converter and -backend-cpu, all 4.22.0).
//
// usage: node models/parity_tfjs.js <model.json> <jobs.json>
//   jobs.json: [{"input": "x.bin", "shape": [1, 192, 192, 3], "output": "y.bin"}, ...]
//   input: raw little-endian int32, output: raw little-endian float32 of the model's single output.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const jsRoot = process.env.TFJS_ROOT || path.join(__dirname, '.cache', 'js');
const req = createRequire(path.join(jsRoot, 'package.json'));
const tf = req('@tensorflow/tfjs-core');
req('@tensorflow/tfjs-backend-cpu');
const tfconv = req('@tensorflow/tfjs-converter');

function toArrayBuffer(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

async function main() {
  const [modelJson, jobsFile] = process.argv.slice(2);
  if (!modelJson || !jobsFile) throw new Error('usage: node parity_tfjs.js <model.json> <jobs.json>');
  await tf.setBackend('cpu');
  await tf.ready();

  const doc = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const dir = path.dirname(modelJson);
  const weightSpecs = [];
  const parts = [];
  for (const group of doc.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) parts.push(fs.readFileSync(path.join(dir, p)));
  }
  const artifacts = {
    modelTopology: doc.modelTopology,
    format: doc.format,
    generatedBy: doc.generatedBy,
    convertedBy: doc.convertedBy,
    signature: doc.signature,
    userDefinedMetadata: doc.userDefinedMetadata,
    weightSpecs,
    weightData: toArrayBuffer(Buffer.concat(parts)),
  };
  const model = await tfconv.loadGraphModel(tf.io.fromMemory(artifacts));

  const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
  for (const job of jobs) {
    const x = tf.tensor(new Int32Array(toArrayBuffer(fs.readFileSync(job.input))), job.shape, 'int32');
    const y = model.execute(x);
    const data = await y.data();
    fs.writeFileSync(job.output, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    tf.dispose([x, y]);
  }
  process.stdout.write(`tfjs-core ${tf.version_core} backend ${tf.getBackend()}: ${jobs.length} runs\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
