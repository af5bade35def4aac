/**
 * Trains the bundled example: a small 1-D CNN that classifies synthetic 3-axis accelerometer
 * windows (32 steps at 25 Hz) into still / walk / run / shake. Seeded and deterministic on the
 * tfjs cpu backend; takes well under a minute.
 *
 *   npx tsx examples/train-example.ts
 *
 * Writes examples/model/{model.json,weights.bin}, examples/calibration.npy (128 training
 * windows), examples/test-inputs.npy (256 held-out windows) and examples/test-labels.npy.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accelData, argmaxRows, fit, initTf, oneHot, predict, saveTfjsFiles, tf } from '../test/helpers/tfjs-train.ts';
import { writeNpy } from '../tools/readers/npy.ts';

const here = dirname(fileURLToPath(import.meta.url));
const T = 32;

export function buildExampleModel(seed = 7): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const m = tf.sequential({ name: 'accel_cnn' });
  m.add(tf.layers.conv1d({ inputShape: [T, 3], filters: 8, kernelSize: 5, padding: 'same', kernelInitializer: init(1), name: 'conv1' }));
  m.add(tf.layers.batchNormalization({ name: 'bn1' }));
  m.add(tf.layers.activation({ activation: 'relu', name: 'relu1' }));
  m.add(tf.layers.maxPooling1d({ poolSize: 2, name: 'pool1' }));
  m.add(tf.layers.conv1d({ filters: 16, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: init(2), name: 'conv2' }));
  m.add(tf.layers.globalAveragePooling1d({ name: 'gap' }));
  m.add(tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(3), name: 'classes' }));
  return m;
}

async function main() {
  await initTf();
  const train = accelData(1024, T, 11);
  const test = accelData(256, T, 99);
  const model = buildExampleModel();
  await fit(model, train.x, oneHot(train.labels, 4), { epochs: 12, batchSize: 32, lr: 0.01, loss: 'categoricalCrossentropy' });
  const acc = (x: typeof test) => {
    const p = argmaxRows(predict(model, [x.x])[0], 4);
    let ok = 0;
    p.forEach((c, i) => (ok += c === x.labels[i] ? 1 : 0));
    return ok / p.length;
  };
  console.log(`float accuracy: train ${(acc(train) * 100).toFixed(1)}%, held-out ${(acc(test) * 100).toFixed(1)}%`);
  await saveTfjsFiles(model, join(here, 'model'));
  const cal = { data: train.x.data.slice(0, 128 * T * 3), shape: [128, T, 3] };
  writeNpy(join(here, 'calibration.npy'), cal.data, cal.shape);
  writeNpy(join(here, 'test-inputs.npy'), test.x.data, test.x.shape);
  writeNpy(join(here, 'test-labels.npy'), test.labels, [test.labels.length]);
  console.log('wrote examples/model/, examples/calibration.npy, examples/test-inputs.npy, examples/test-labels.npy');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
