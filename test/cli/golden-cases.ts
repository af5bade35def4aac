/**
 * The conversions whose blobs must stay byte-identical: every model in the shared Keras
 * fixtures and the bundled example, with a few option variants. `npm run golden:record`
 * rewrites golden.json from the current code; a commit that changes a hash says why.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fixturesDir, repoRoot } from '../helpers/fixtures.ts';

export interface GoldenCase {
  id: string;
  args: string[];
  needsFixtures: boolean;
}

export interface GoldenResult {
  exit: number;
  sha256: string | null;
  stderr: string;
}

const F = (p: string) => `$FIXTURES/${p}`;

export const GOLDEN_CASES: GoldenCase[] = [
  { id: 'example', args: ['examples/model/model.json', '--calibration', 'examples/calibration.npy'], needsFixtures: false },
  { id: 'example-batch4', args: ['examples/model/model.json', '--calibration', 'examples/calibration.npy', '--batch', '4'], needsFixtures: false },
  { id: 'example-synthetic', args: ['examples/model/model.json'], needsFixtures: false },
  ...[
    'dl4j_simple_rnn/simple_rnn_tf_keras_2_model.h5',
    'dl4j_conv1d_k3_s2_valid/conv1d_k3_s2_d1_cl_valid_model.h5',
    'dl4j_causal_conv1d/causal_conv1d_k3_s1_d2_cl_model.h5',
    'dl4j_dense_leakyrelu/LeakyReLU_0_model.h5',
    'dl4j_bidirectional_lstm/bidirectional_lstm_tensorflow_2.h5',
    'dl4j_conv1d_pool1d_stack/cnn_1d_doublecount.h5.h5',
    'dl4j_conv2d_batchnorm/cnn_batch_norm.h5',
    'dl4j_concat_attention/keras-attention.h5',
    'dl4j_keras1_lstm/lstm_tensorflow_1.h5',
    'tfjs_embedding_gru/model.json',
    'tfjs_node_abalone_mlp/model.json',
    'tfjs_graph_model_negative/model.json',
    'mlperf_tiny_resnet_add/pretrainedResnet.h5',
    'mltk_autoencoder_nested_sequential/autoencoder_example.h5',
    'cdt406_keras3_gru_stack/gru_model.keras',
    'cdt406_keras3_lstm_unroll/model.keras',
    'cdt406_keras3_custom_model_negative/elm_model.keras',
  ].map((p) => ({ id: p, args: [F(p)], needsFixtures: true })),
  {
    id: 'dl4j_dense_leakyrelu weights+config',
    args: [F('dl4j_dense_leakyrelu/LeakyReLU_0_weights.h5'), '--config', F('dl4j_dense_leakyrelu/LeakyReLU_0_config.json')],
    needsFixtures: true,
  },
  {
    id: 'hls4ml_gru weights+config',
    args: [F('hls4ml_gru_keras213/KERAS_gru_model_weights.h5'), '--config', F('hls4ml_gru_keras213/KERAS_gru_model.json')],
    needsFixtures: true,
  },
  {
    id: 'dl4j_conv2d_batchnorm calibrated',
    args: [F('dl4j_conv2d_batchnorm/cnn_batch_norm.h5'), '--calibration', F('dl4j_conv2d_batchnorm/input.npy')],
    needsFixtures: true,
  },
  { id: 'cdt406_keras3_gru_stack batch2', args: [F('cdt406_keras3_gru_stack/gru_model.keras'), '--batch', '2'], needsFixtures: true },
  { id: 'tfjs_embedding_gru stream', args: [F('tfjs_embedding_gru/model.json'), '--stream', '--stream-steps', '5'], needsFixtures: true },
];

/** Paths in messages differ between checkouts: replace them with placeholders. */
function scrub(s: string, out: string): string {
  return s.split(out).join('$OUT').split(fixturesDir).join('$FIXTURES').split(repoRoot).join('$REPO');
}

/** Runs `npx ./tools/convert` for one case and returns its exit code, blob hash and stderr. */
export function runGoldenCase(c: GoldenCase): Promise<GoldenResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kw-golden-'));
  const out = join(dir, 'm.blob');
  const args = [...c.args.map((a) => a.replace('$FIXTURES', fixturesDir)), '-o', out];
  return new Promise((res, rej) => {
    const p = spawn('npx', ['./tools/convert', ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', rej);
    p.on('close', (code) => {
      const sha256 = existsSync(out) ? createHash('sha256').update(readFileSync(out)).digest('hex') : null;
      rmSync(dir, { recursive: true, force: true });
      res({ exit: code ?? -1, sha256, stderr: scrub(err, out) });
    });
  });
}

export const GOLDEN_FILE = resolve(repoRoot, 'test/cli/golden.json');
export const haveFixtureDir = existsSync(fixturesDir);
