/**
 * verify's checks of a blob before flashing: the single function (`verify`) that the command
 * (tools/cli/verify.ts) and the API (tools/api.ts) call, returning a typed result.
 *
 *   integrity   magic, format version, CRC, every section and op in bounds (parseBlob)
 *   runtime     the runtime .wasm's ABI/format version and op mask vs the blob's (instantiated)
 *   shapes      input/output shapes or a firmware manifest vs the blob's I/O, in Keras terms
 *   memory      flash and RAM vs a board profile or a RAM/flash budget, linear memory in 64 KiB pages
 *   numbers     model + data: float model (Node) vs the blob in DeviceSim, judged by the metric
 *               that fits each output (top-1 for classifiers, SQNR for regressors; verify-numbers.ts)
 *   layers      per-layer errors against the float model (verify-layers.ts)
 *   self-test   the embedded self-test vector run in DeviceSim
 *
 * A failed check is a result (exitCode 5 integrity, runtime, shapes or self-test; 6 memory; 7
 * numbers; the lowest wins); a bad option or an unreadable input throws UserError.
 */
import { readFileSync } from 'node:fs';

import { modelNotBlob } from './inputs.ts';
import { UserError, EXIT } from '../errors.ts';
import { parseBlob, BlobError, type ParsedBlob } from '../blob/parse.ts';
import { ABI_VERSION, DTYPE, ERR, ERR_TEXT, FLAG, OPS, STORAGE } from '../blob/spec.ts';
import { readRuntimeInfo, measureLinearMemory, type RuntimeInfo, type MemoryMeasure } from '../blob/runtime-info.ts';
import {
  BOARDS,
  estimateLatencyMs,
  findBoard,
  getInterpreter,
  LATENCY_SOURCE,
  memoryBudget,
  WASM_PAGE,
  type Board,
  type InterpreterProfile,
} from '../boards.ts';
import { countLoadAndInference, type CompiledCode } from '../blob/count.ts';
import { blobStaging } from '../blob/runtime-info.ts';
import { checkLayers } from './verify-layers.ts';
import type { Progress } from '../pipeline.ts';
import { checkNumbers, openDevice, parseMetric, type Device, type Metric, type Thresholds } from './verify-numbers.ts';
import { packageFile } from '../package-root.ts';

export const DEFAULT_RUNTIME = packageFile('build', 'runtime.wasm');
export const DEFAULT_FLASH_RUNTIME = packageFile('build', 'runtime-flash.wasm');

export type Status = 'PASS' | 'FAIL' | 'WARN' | 'SKIP';
export interface Check {
  name: 'integrity' | 'runtime' | 'shapes' | 'memory' | 'numbers' | 'layers' | 'self-test';
  status: Status;
  summary: string;
  details: string[];
  figures: Record<string, unknown>;
}

export interface VerifyOptions {
  /** the blob's file name (read from disk unless blobBytes is given; shown in messages) */
  blobFile: string;
  /** the blob's bytes, when they are in memory (the API; convert --report checks the blob before writing it) */
  blobBytes?: Uint8Array;
  runtimeFile?: string;
  inputShapes?: number[][];
  outputShapes?: number[][];
  manifestFile?: string;
  board?: string;
  ram?: number;
  flash?: number;
  interpreter?: string;
  model?: string;
  config?: string;
  data?: string[];
  /** class ids or one-hot rows for the model's output (the numbers check) */
  labels?: string;
  /** thresholds given on the command line; the chosen metric's defaults fill the rest */
  thresholds?: Partial<Thresholds>;
  /** judge every output by this metric instead of the one its head suggests */
  metric?: Metric;
  /** at most this many samples from --data (default 256) */
  maxSamples?: number;
  /** list the boards the model fits, smallest first */
  suggest?: boolean;
  /** per-layer error report (verify-layers.ts), from the scales in the blob's metadata section */
  layers?: boolean;
  /** every board's RAM, flash, fit and estimated latency (verify/convert --report) */
  boards?: boolean;
  /** called as the numbers check runs batches of --data */
  progress?: Progress;
}

/** One board the model fits (verify --suggest). */
export interface BoardFit {
  board: string;
  ram: number;
  ramUsable: number;
  flash: number;
  flashUsable: number;
  /** estimated milliseconds per inference (an estimate: see tools/boards.ts LATENCY_SOURCE) */
  latencyMs: number;
}

/** One board with or without a fit (verify --report): why it does not fit, or null. */
export interface BoardRow extends BoardFit {
  interpreter: string;
  fits: boolean;
  why: string | null;
}

export interface VerifyResult {
  blob: string;
  ok: boolean;
  exitCode: number;
  checks: Check[];
  /** --suggest: the boards the model fits, smallest RAM first */
  fits?: BoardFit[];
  /** VerifyOptions.boards: every board, smallest RAM first */
  boards?: BoardRow[];
}

const KiB = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`);
const shapeText = (d: readonly (number | null)[]) => `[${d.map((x) => (x === null ? 'None' : x)).join(', ')}]`;

/** The bytes of an input file; a missing or unreadable one is a user error naming it. */
export function readFileOrThrow(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read ${what} (${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)})`, EXIT.BAD_INPUT);
  }
}

/** "1,50,3" -> [1, 50, 3] */
export function parseBytes(text: string, opt: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]i?[bB]?|[bB])?$/.exec(text.trim());
  if (!m) throw new UserError(`${opt} ${text}: expected a byte count such as 262144, 256K or 1M`, EXIT.USAGE);
  const unit = (m[2] ?? '').toLowerCase();
  const mul = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  return Math.floor(Number(m[1]) * mul);
}

// ---------------------------------------------------------------- manifest

export interface Manifest {
  inputs?: { shape: number[]; dtype?: string; name?: string }[];
  outputs?: { shape: number[]; dtype?: string; name?: string }[];
  board?: string;
  interpreter?: string;
  ram?: number;
  flash?: number;
}

export function readManifest(file: string): Manifest {
  let j: any;
  try {
    j = JSON.parse(new TextDecoder().decode(readFileOrThrow(file, 'manifest')));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, EXIT.BAD_INPUT);
  }
  const bad = (what: string) =>
    new UserError(
      `${file}: ${what}; expected {"inputs": [{"shape": [1,50,3]}], "outputs": [{"shape": [1,4]}], "board"?: "esp32", "interpreter"?: "wasm3", "ram"?: bytes, "flash"?: bytes}`,
      EXIT.BAD_INPUT,
    );
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw bad('not a JSON object');
  const list = (k: 'inputs' | 'outputs') => {
    if (j[k] === undefined) return undefined;
    if (!Array.isArray(j[k])) throw bad(`"${k}" is not an array`);
    return j[k].map((e: any, i: number) => {
      const shape = Array.isArray(e) ? e : e?.shape;
      if (!Array.isArray(shape) || !shape.length || shape.some((d: any) => !Number.isInteger(d) || d < 1))
        throw bad(`${k}[${i}].shape is not a list of positive integers`);
      if (e?.dtype !== undefined && !['int8', 'int16', 'int32'].includes(e.dtype)) throw bad(`${k}[${i}].dtype must be int8, int16 or int32`);
      return { shape, dtype: e?.dtype, name: e?.name };
    });
  };
  for (const k of ['ram', 'flash']) if (j[k] !== undefined && !(Number.isInteger(j[k]) && j[k] > 0)) throw bad(`"${k}" must be a positive byte count`);
  return { inputs: list('inputs'), outputs: list('outputs'), board: j.board, interpreter: j.interpreter, ram: j.ram, flash: j.flash };
}

// ---------------------------------------------------------------- checks

function opNamesOf(mask0: number, mask1: number): string[] {
  return OPS.filter((o) => ((o.code < 32 ? mask0 >>> o.code : mask1 >>> (o.code - 32)) & 1) === 1).map((o) => o.name);
}

function checkIntegrity(bytes: Uint8Array, file: string): { check: Check; parsed: ParsedBlob | null } {
  try {
    const parsed = parseBlob(bytes, { file });
    const h = parsed.header;
    return {
      parsed,
      check: {
        name: 'integrity',
        status: 'PASS',
        summary: `format ${h.version}, ${bytes.length} bytes, CRC 0x${h.crc32.toString(16).padStart(8, '0')} ok, ${h.nTensors} tensors, ${h.nOps} ops, constants ${KiB(h.constsSize)}${h.flags & FLAG.HAS_SELFTEST ? ', self-test vector' : ''}`,
        details: [],
        figures: { bytes: bytes.length, version: h.version, crc32: h.crc32, tensors: h.nTensors, ops: h.nOps, constsBytes: h.constsSize, batch: h.batch },
      },
    };
  } catch (e) {
    if (!(e instanceof BlobError)) throw e;
    // not a blob at all -> unreadable (exit 3); a blob that fails its checks -> verification failure
    if (e.code === ERR.BAD_MAGIC || (e.code === ERR.BAD_SIZE && bytes.length < 96)) throw modelNotBlob(bytes, file) ?? new UserError(e.message, EXIT.BAD_INPUT);
    return {
      parsed: null,
      check: {
        name: 'integrity',
        status: 'FAIL',
        summary: e.message,
        details: e.index >= 0 ? [`refers to index ${e.index}`] : [],
        figures: { errorCode: e.code, error: ERR_TEXT[e.code], index: e.index },
      },
    };
  }
}

function checkRuntime(p: ParsedBlob, info: RuntimeInfo, mem: MemoryMeasure | null, file: string): Check {
  const h = p.header;
  const problems: string[] = [];
  if (info.unexpectedImports.length)
    problems.push(`${file} imports ${info.unexpectedImports.join(', ')}, which the firmware glue does not provide (only env.abort and kw.read_blob)`);
  if (info.missingExports.length) problems.push(`${file} lacks ABI exports: ${info.missingExports.join(', ')}`);
  if (!info.unexpectedImports.length && info.abiVersion !== ABI_VERSION)
    problems.push(`runtime ABI version ${info.abiVersion}, these tools and kw_abi.h use ${ABI_VERSION}`);
  if (!info.unexpectedImports.length && info.formatVersion !== h.version)
    problems.push(`blob format version ${h.version}, runtime reads ${info.formatVersion}`);
  const miss0 = (h.opMask0 & ~info.opMask[0]) >>> 0;
  const miss1 = (h.opMask1 & ~info.opMask[1]) >>> 0;
  const missing = opNamesOf(miss0, miss1);
  if (missing.length) {
    const uses = missing.map(
      (n) =>
        `${n} (${p.ops.filter((o) => o.name === n).length} op${p.ops.filter((o) => o.name === n).length === 1 ? '' : 's'}, first #${p.ops.find((o) => o.name === n)?.index ?? '?'})`,
    );
    problems.push(`ops used by the blob but not in this runtime build: ${uses.join(', ')}`);
  }
  if (!problems.length && mem && mem.initCode !== 0)
    problems.push(
      `the runtime's kw_init rejected the blob: ${ERR_TEXT[mem.initCode] ?? `error ${mem.initCode}`}${mem.errorOp >= 0 ? ` (index ${mem.errorOp})` : ''}`,
    );
  const figures = {
    runtime: file,
    runtimeBytes: info.bytes,
    abiVersion: info.abiVersion,
    formatVersion: info.formatVersion,
    runtimeOps: opNamesOf(info.opMask[0], info.opMask[1]),
    blobOps: opNamesOf(h.opMask0, h.opMask1),
    missingOps: missing,
  };
  if (problems.length) return { name: 'runtime', status: 'FAIL', summary: problems[0], details: problems.slice(1), figures };
  return {
    name: 'runtime',
    status: 'PASS',
    summary: `ABI ${info.abiVersion}, format ${info.formatVersion}; blob uses ${figures.blobOps.join(', ')}: all in this runtime (${figures.runtimeOps.length} ops)`,
    details: [],
    figures,
  };
}

function dtypeName(dt: number): string {
  return dt === DTYPE.INT8 ? 'int8' : dt === DTYPE.INT16 ? 'int16' : dt === DTYPE.INT32 ? 'int32' : `dtype ${dt}`;
}

export function checkShapes(p: ParsedBlob, want: { inputs?: Manifest['inputs']; outputs?: Manifest['outputs'] }): Check {
  const batch = p.header.batch;
  const kerasShape = (dims: number[]) => shapeText([null, ...dims.slice(1)]);
  const problems: string[] = [];
  const rows: string[] = [];
  const side = (kind: 'input' | 'output', have: ParsedBlob['io']['inputs'], exp?: Manifest['inputs']) => {
    if (!exp) return;
    if (exp.length !== have.length)
      problems.push(
        `firmware expects ${exp.length} ${kind}(s), the blob has ${have.length}: ${have.map((t) => `'${t.name}' ${shapeText(t.dims)}`).join(', ')}`,
      );
    exp.forEach((e, i) => {
      const t = have[i];
      if (!t) return;
      const same = e.shape.length === t.dims.length && e.shape.every((d, k) => d === t.dims[k]);
      if (!same) {
        problems.push(
          `${kind} ${i} '${t.name}': firmware expects ${shapeText(e.shape)}, blob has ${shapeText(t.dims)} (${dtypeName(t.dtype)}); the blob was built with batch ${batch} from Keras batch_input_shape ${kerasShape(t.dims)}` +
            (e.shape.length === t.dims.length && e.shape.slice(1).every((d, k) => d === t.dims[k + 1])
              ? ` -- only the batch differs: reconvert with --batch ${e.shape[0]}`
              : ''),
        );
      } else rows.push(`${kind} ${i} '${t.name}' ${shapeText(t.dims)} ${dtypeName(t.dtype)} ok`);
      if (e.dtype && e.dtype !== dtypeName(t.dtype)) problems.push(`${kind} ${i} '${t.name}': firmware expects ${e.dtype}, blob has ${dtypeName(t.dtype)}`);
      if (e.name && e.name !== t.name) rows.push(`${kind} ${i}: manifest names it '${e.name}', blob '${t.name}' (names are informational)`);
    });
  };
  side('input', p.io.inputs, want.inputs);
  side('output', p.io.outputs, want.outputs);
  const figures = {
    batch,
    inputs: p.io.inputs.map((t) => ({ name: t.name, dims: t.dims, dtype: dtypeName(t.dtype), scale: t.scale, zeroPoint: t.zeroPoint })),
    outputs: p.io.outputs.map((t) => ({ name: t.name, dims: t.dims, dtype: dtypeName(t.dtype), scale: t.scale, zeroPoint: t.zeroPoint })),
  };
  const all = `inputs ${p.io.inputs.map((t) => `'${t.name}' ${shapeText(t.dims)}`).join(', ')}; outputs ${p.io.outputs.map((t) => `'${t.name}' ${shapeText(t.dims)}`).join(', ')}`;
  if (!want.inputs && !want.outputs)
    return { name: 'shapes', status: 'SKIP', summary: `no --input-shape/--output-shape/--manifest given; blob (batch ${batch}): ${all}`, details: [], figures };
  if (problems.length) return { name: 'shapes', status: 'FAIL', summary: problems[0], details: problems.slice(1), figures };
  return { name: 'shapes', status: 'PASS', summary: `${all} (batch ${batch}) as expected`, details: rows, figures };
}

/** Arena tensors by size, named by the op that writes them or their I/O name. */
export function dominantTensors(p: ParsedBlob, n = 3): { index: number; bytes: number; what: string; storage: string }[] {
  const producer = new Map<number, string>();
  for (const op of p.ops) {
    const outs = ['out'].filter((k) => typeof op.params[k] === 'number').map((k) => op.params[k] as number);
    for (const t of outs) producer.set(t, `output of op #${op.index} ${op.name}`);
  }
  p.io.inputs.forEach((t, i) => producer.set(t.tensor, `input ${i} '${t.name}'`));
  p.io.outputs.forEach((t, i) => producer.set(t.tensor, `output ${i} '${t.name}'${producer.has(t.tensor) ? `, ${producer.get(t.tensor)}` : ''}`));
  return p.tensors
    .map((t, index) => ({ index, bytes: t.bytes, what: producer.get(index) ?? 'intermediate', storage: t.storage === STORAGE.STATE ? 'state' : 'arena' }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, n);
}

function checkMemory(
  p: ParsedBlob,
  blobBytes: number,
  info: RuntimeInfo,
  mem: MemoryMeasure | null,
  interp: InterpreterProfile,
  budget: { board?: Board; ram?: number; flash?: number },
  code?: CompiledCode,
): Check {
  const h = p.header;
  const streamed = info.streams && h.stagingSize > 0;
  const staticBytes = streamed ? info.initialStatic : mem?.blobAddress || info.initialStatic;
  // streamed: the tables before the constants, and the staging area, instead of the whole blob
  const blobPart = streamed ? Math.ceil(h.constsOff / 16) * 16 + h.stagingSize : Math.ceil(blobBytes / 16) * 16;
  const modelBytes = blobPart + h.arenaSize + h.stateSize + h.scratchSize;
  const linearBytes = mem && mem.initCode === 0 ? mem.memoryUsed : staticBytes + modelBytes;
  const pages = mem && mem.initCode === 0 ? mem.pagesAfterInit : Math.max(1, Math.ceil(linearBytes / WASM_PAGE));
  const compiledBodyBytes = code?.bodyBytes;
  const inputs = {
    blobBytes,
    runtimeWasmBytes: info.bytes,
    linearPages: pages,
    pagesBeforeLastGrow: mem?.pagesBeforeLastGrow,
    linearBytes,
    streamed,
    compiledBodyBytes,
  };
  const b = memoryBudget(inputs, interp, budget.board);
  const ramLimit = budget.ram ?? budget.board?.ramUsable;
  const flashLimit = budget.flash ?? budget.board?.flashUsable;
  const maxBlock = budget.ram === undefined ? budget.board?.maxBlock : undefined;
  const where = budget.board ? budget.board.name : 'the given budget';
  const dom = dominantTensors(p);
  const blobText = streamed ? `blob tables ${KiB(h.constsOff)} + staging ${KiB(h.stagingSize)} (weights stay in flash)` : `blob copy ${KiB(blobBytes)}`;
  const linearParts = `linear memory ${pages} page(s) = ${KiB(pages * WASM_PAGE)} for ${KiB(linearBytes)} used: runtime static data ${KiB(staticBytes)} + ${blobText} + arena ${KiB(h.arenaSize)} + state ${KiB(h.stateSize)} + scratch ${KiB(h.scratchSize)}`;
  const details = [
    linearParts,
    `RAM ${KiB(b.ram.total)} = ${Object.entries(b.ram.parts)
      .map(([k, v]) => `${k} ${KiB(v)}`)
      .join(' + ')}`,
    `flash ${KiB(b.flash.total)} = ${Object.entries(b.flash.parts)
      .map(([k, v]) => `${k} ${KiB(v)}`)
      .join(' + ')} (blob constants/weights ${KiB(h.constsSize)})`,
    moduleModelText(interp, b.moduleModel, info.bytes, code),
    `largest tensors: ${dom.map((t) => `tensor ${t.index} ${KiB(t.bytes)} (${t.what}, ${t.storage})`).join('; ')}`,
  ];
  const figures = {
    interpreter: interp.name,
    board: budget.board?.name ?? null,
    ramLimit: ramLimit ?? null,
    flashLimit: flashLimit ?? null,
    maxBlock: maxBlock ?? null,
    linearMemoryBytes: linearBytes,
    pages,
    pageBytes: pages * WASM_PAGE,
    staticBytes,
    arenaBytes: h.arenaSize,
    stateBytes: h.stateSize,
    scratchBytes: h.scratchSize,
    ram: b.ram,
    flash: b.flash,
    dominantTensors: dom,
    measured: !!(mem && mem.initCode === 0),
    moduleModel: b.moduleModel,
  };
  const fails: string[] = [];
  const arenaHint = () => {
    const biggest = [
      ['blob copy (weights)', blobBytes],
      ['arena', h.arenaSize],
      ['state', h.stateSize],
      ['scratch', h.scratchSize],
    ].sort((x, y) => (y[1] as number) - (x[1] as number))[0];
    const hint =
      biggest[0] === 'arena'
        ? `; the arena is dominated by ${dom
            .filter((t) => t.storage === 'arena')
            .map((t) => `tensor ${t.index} ${KiB(t.bytes)} (${t.what})`)
            .join(', ')}`
        : biggest[0] === 'blob copy (weights)'
          ? `; weights (constants) are ${KiB(h.constsSize)} of the blob`
          : '';
    return `largest part of linear memory: ${biggest[0]} ${KiB(biggest[1] as number)}${hint}`;
  };
  const topRam = Object.entries(b.ram.parts)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${KiB(v)}`)
    .join(', ');
  // the module's RAM scales with the runtime .wasm: a runtime with only this blob's ops is smaller
  const unusedOps = opNamesOf((info.opMask[0] & ~h.opMask0) >>> 0, (info.opMask[1] & ~h.opMask1) >>> 0).length;
  const moduleHint =
    unusedOps > 0 && interp.moduleRamFactor > 0
      ? `; the runtime carries ${unusedOps} ops this model does not use: build one with only its ops (convert --runtime OUT.wasm, then verify --runtime OUT.wasm)`
      : '';
  if (ramLimit !== undefined && b.ram.total > ramLimit)
    fails.push(
      `RAM over by ${KiB(b.ram.total - ramLimit)}: needs ${KiB(b.ram.total)} under ${interp.name}, ${where} has ${KiB(ramLimit)} usable (largest: ${topRam})${moduleHint}; ${arenaHint()}`,
    );
  if (maxBlock !== undefined && b.ram.largestBlock > maxBlock)
    fails.push(
      `linear memory of ${pages} page(s) needs ONE block of ${KiB(b.ram.largestBlock)}, the largest block on ${where} is about ${KiB(maxBlock)} (over by ${KiB(b.ram.largestBlock - maxBlock)}); ${arenaHint()}`,
    );
  if (flashLimit !== undefined && b.flash.total > flashLimit)
    fails.push(
      `flash over by ${KiB(b.flash.total - flashLimit)}: needs ${KiB(b.flash.total)} (blob ${KiB(blobBytes)} + runtime ${KiB(info.bytes)} + ${interp.name} ${KiB(interp.codeFlash)} + glue ${KiB(interp.glueFlash)}), ${where} has ${KiB(flashLimit)} for the application`,
    );
  if (fails.length) return { name: 'memory', status: 'FAIL', summary: fails[0], details: [...fails.slice(1), ...details], figures };
  if (ramLimit === undefined && flashLimit === undefined)
    return {
      name: 'memory',
      status: 'SKIP',
      summary: `no --board or --ram/--flash given; needs RAM ${KiB(b.ram.total)} (${pages} x 64 KiB pages) and flash ${KiB(b.flash.total)} under ${interp.name}`,
      details,
      figures,
    };
  const ramText = ramLimit !== undefined ? `RAM ${KiB(b.ram.total)} of ${KiB(ramLimit)} (${((100 * b.ram.total) / ramLimit).toFixed(0)}%)` : 'RAM not budgeted';
  const flashText =
    flashLimit !== undefined ? `flash ${KiB(b.flash.total)} of ${KiB(flashLimit)} (${((100 * b.flash.total) / flashLimit).toFixed(0)}%)` : 'flash not budgeted';
  return { name: 'memory', status: 'PASS', summary: `${where} under ${interp.name}: ${ramText}, ${flashText}; ${pages} x 64 KiB pages`, details, figures };
}

/** Which model counted the interpreter's module RAM (verify prints it with the memory figures). */
function moduleModelText(interp: InterpreterProfile, model: string, wasmBytes: number, code?: CompiledCode): string {
  const cc = interp.compiledCode;
  if (model === 'compiled functions' && cc && code)
    return `${interp.name} RAM model: compiled functions, ${KiB(cc.base)} + ${cc.perByte} x ${code.bodyBytes} B + ${cc.perWasmByte} x ${wasmBytes} B .wasm: the ${code.functions} of ${code.totalFunctions} function bodies (${code.bodyBytes} of ${code.totalBodyBytes} B) that init + self-test + one inference run, plus the exports (a fit above every measured run, docs/BOARDS.md)`;
  const why = cc ? '; the functions this blob runs were not counted (give --board, --ram or --suggest)' : '';
  return `${interp.name} RAM model: runtime size, ${KiB(interp.baseRam)} + ${interp.moduleRamFactor} x ${wasmBytes} B runtime .wasm (upper bound, docs/BOARDS.md)${why}`;
}

// ---------------------------------------------------------------- self-test

async function checkSelfTest(p: ParsedBlob, dev: Device | null, why: string): Promise<Check> {
  if (!(p.header.flags & FLAG.HAS_SELFTEST))
    return {
      name: 'self-test',
      status: 'WARN',
      summary: 'the blob has no self-test vector (convert embeds one): firmware cannot check itself at boot',
      details: [],
      figures: {},
    };
  if (!dev) return { name: 'self-test', status: 'SKIP', summary: `not run: ${why}`, details: [], figures: {} };
  const rc = dev.selfTest();
  const bytes = p.selfTest ? p.selfTest.inputs.reduce((a, b) => a + b.length, 0) + p.selfTest.outputs.reduce((a, b) => a + b.length, 0) : 0;
  if (rc === ERR.OK)
    return {
      name: 'self-test',
      status: 'PASS',
      summary: `embedded vector (${bytes} bytes) reproduced bit-exactly in DeviceSim`,
      details: [],
      figures: { code: rc },
    };
  return { name: 'self-test', status: 'FAIL', summary: `kw_self_test returned ${rc}: ${ERR_TEXT[rc] ?? 'unknown error'}`, details: [], figures: { code: rc } };
}

// ---------------------------------------------------------------- driver

/** 0 when nothing failed; else the lowest code of the failed checks (5 < 6 memory < 7 numbers). */
export function exitCodeOf(checks: Check[]): number {
  const failed = checks.filter((c) => c.status === 'FAIL');
  if (!failed.length) return EXIT.OK;
  const codeOf = (c: Check) => (c.name === 'memory' ? EXIT.DOES_NOT_FIT : c.name === 'numbers' ? EXIT.NUMERIC_FAILED : EXIT.VERIFY_FAILED);
  return Math.min(...failed.map(codeOf));
}

/**
 * The budget options that exclude each other, and the board and interpreter names (the command
 * checks them before its output paths; given or not as flags, hence `!== undefined`).
 */
export function checkVerifyOptions(o: { board?: string; ram?: unknown; flash?: unknown; suggest?: boolean; interpreter?: string }): void {
  const budget = o.ram !== undefined || o.flash !== undefined;
  if (o.board && budget) throw new UserError('--board and --ram/--flash exclude each other: give a board profile or a custom budget', EXIT.USAGE);
  if (o.board) findBoard(o.board);
  if (o.suggest && (o.board || budget)) throw new UserError('--suggest tries every board: give it without --board, --ram or --flash', EXIT.USAGE);
  if (o.interpreter) getInterpreter(o.interpreter);
}

/** The flag and the allowed range of each number option. */
const NUMBER_OPTIONS: Record<string, { flag: string; lo?: number; hi?: number }> = {
  maxSamples: { flag: '--max-samples', lo: 1 },
  maxAbsErr: { flag: '--max-abs-err', lo: 0 },
  minSqnr: { flag: '--min-sqnr' },
  maxRelErr: { flag: '--max-rel-err', lo: 0 },
  minTop1: { flag: '--min-top1', lo: 0, hi: 1 },
  minCosine: { flag: '--min-cosine', lo: -1, hi: 1 },
};

/** A number option (`maxSamples` or a threshold) as a number within its range; undefined when not given. */
export function checkNumber(v: string | number | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const { flag, lo = -Infinity, hi = Infinity } = NUMBER_OPTIONS[name];
  const x = Number(v);
  if (!Number.isFinite(x) || x < lo || x > hi) throw new UserError(`${flag} ${v}: expected a number${hi < Infinity ? ` in [${lo}, ${hi}]` : ''}`, EXIT.USAGE);
  return x;
}

/** The values the command checks as it parses them: numbers in range, a known metric. */
function checkValues(o: VerifyOptions): void {
  checkNumber(o.maxSamples, 'maxSamples');
  for (const [k, v] of Object.entries(o.thresholds ?? {})) if (k in NUMBER_OPTIONS) checkNumber(v, k);
  if (o.metric !== undefined) parseMetric(o.metric);
}

/** Runs every check that the options ask for; a failed check is in the result, a bad input throws. */
export async function verify(o: VerifyOptions): Promise<VerifyResult> {
  checkVerifyOptions(o);
  checkValues(o);
  const bytes = o.blobBytes ?? readFileOrThrow(o.blobFile, 'blob');
  const checks: Check[] = [];
  const { check: integ, parsed } = checkIntegrity(bytes, o.blobFile);
  checks.push(integ);
  // --suggest fills this in once the runtime has loaded the blob
  const suggested: { fits?: BoardFit[]; boards?: BoardRow[] } = {};
  const finish = (): VerifyResult => {
    const { fits, boards } = suggested;
    const ok = checks.every((c) => c.status !== 'FAIL') && (!fits || fits.length > 0);
    // --suggest with no board that fits: does not fit
    const exitCode = checks.some((c) => c.status === 'FAIL') ? exitCodeOf(checks) : ok ? EXIT.OK : EXIT.DOES_NOT_FIT;
    return { blob: o.blobFile, ok, exitCode, checks, ...(fits ? { fits } : {}), ...(boards ? { boards } : {}) };
  };
  if (!parsed) return finish();

  const manifest = o.manifestFile ? readManifest(o.manifestFile) : undefined;
  const runtimeFile = o.runtimeFile ?? (blobStaging(bytes) > 0 ? DEFAULT_FLASH_RUNTIME : DEFAULT_RUNTIME);
  const runtime = readFileOrThrow(runtimeFile, 'runtime .wasm (build it with `npm run build:wasm` or pass --runtime)');
  const info = await readRuntimeInfo(runtime, runtimeFile);
  const usable = !info.unexpectedImports.length && !info.missingExports.length;
  const mem = usable ? await measureLinearMemory(runtime, bytes) : null;
  const rt = checkRuntime(parsed, info, mem, runtimeFile);
  checks.push(rt);

  checks.push(
    checkShapes(parsed, {
      inputs: o.inputShapes?.length ? o.inputShapes.map((shape) => ({ shape })) : manifest?.inputs,
      outputs: o.outputShapes?.length ? o.outputShapes.map((shape) => ({ shape })) : manifest?.outputs,
    }),
  );

  const boardName = o.board ?? (o.ram === undefined && o.flash === undefined ? manifest?.board : undefined);
  const board = boardName ? findBoard(boardName) : undefined;
  const interp = getInterpreter(o.interpreter ?? manifest?.interpreter ?? 'wasm3');
  const ram = o.ram ?? (boardName ? undefined : manifest?.ram);
  const counted =
    rt.status === 'PASS' && (board || o.suggest || o.boards || ram !== undefined)
      ? await executedInstructions(parsed, runtimeFile, bytes, info.streams && parsed.header.stagingSize > 0)
      : null;
  const memory = checkMemory(
    parsed,
    bytes.length,
    info,
    mem,
    interp,
    { board, ram, flash: o.flash ?? (boardName ? undefined : manifest?.flash) },
    counted?.code,
  );
  checks.push(memory);
  if (board && counted) addLatency(memory, counted.executed, board, interp);
  layoutNote(memory, parsed, interp);
  const rows = o.suggest || o.boards ? boardTable(parsed, bytes.length, info, mem, interp, counted) : [];
  if (o.suggest)
    suggested.fits = rows
      .filter((r) => r.fits)
      .map(({ board, ram, ramUsable, flash, flashUsable, latencyMs }) => ({ board, ram, ramUsable, flash, flashUsable, latencyMs }));
  if (o.boards) suggested.boards = rows;

  const deviceOk = rt.status === 'PASS';
  if (!o.model && !o.data?.length && (o.labels || o.metric))
    throw new UserError(`${o.labels ? '--labels' : '--metric'} goes with --model and --data (the numbers check)`, EXIT.USAGE);
  if (o.model || o.data?.length) {
    if (!o.model || !o.data?.length) throw new UserError('--model and --data go together (the float model and one .npy per input)', EXIT.USAGE);
    if (!deviceOk) checks.push({ name: 'numbers', status: 'SKIP', summary: 'not run: the runtime cannot load this blob', details: [], figures: {} });
    else
      checks.push(
        await checkNumbers(parsed, runtimeFile, bytes, {
          blobFile: o.blobFile,
          model: o.model,
          config: o.config,
          data: o.data,
          labels: o.labels,
          thresholds: o.thresholds,
          metric: o.metric,
          maxSamples: o.maxSamples,
          progress: o.progress,
        }),
      );
  }
  if (o.layers) await addLayers(checks, o, parsed, runtimeFile, bytes, deviceOk);
  let dev: Device | null = null;
  if (deviceOk && parsed.header.flags & FLAG.HAS_SELFTEST) dev = await openDevice(runtimeFile, bytes);
  checks.push(await checkSelfTest(parsed, dev, 'the runtime cannot load this blob'));
  return finish();
}

/** The per-layer report (--layers): with --model and --data, on a blob the runtime loads. */
async function addLayers(checks: Check[], o: VerifyOptions, p: ParsedBlob, runtimeFile: string, bytes: Uint8Array, deviceOk: boolean): Promise<void> {
  if (!o.model || !o.data?.length) throw new UserError('--layers goes with --model and --data (the float model and one .npy per input)', EXIT.USAGE);
  if (!deviceOk) {
    checks.push({ name: 'layers', status: 'SKIP', summary: 'not run: the runtime cannot load this blob', details: [], figures: {} });
    return;
  }
  const { model, config, data, maxSamples } = o;
  checks.push(await checkLayers(p, runtimeFile, bytes, { model, config, data, maxSamples, minSqnr: o.thresholds?.minSqnr }));
}

/** Executed wasm instructions of one inference on the self-test inputs (zeros when there are none), and the code that init + self-test + that inference run. */
async function executedInstructions(
  p: ParsedBlob,
  runtimeFile: string,
  blob: Uint8Array,
  streamed: boolean,
): Promise<{ executed: number; code: CompiledCode }> {
  const inputs = p.selfTest?.inputs ?? p.io.inputs.map((t) => new Uint8Array(t.bytes));
  const c = await countLoadAndInference(runtimeFile, blob, inputs, streamed);
  return { executed: c.count.executed, code: c.code };
}

/** Adds the estimated latency on the board to the memory check. */
function addLatency(memory: Check, executed: number, board: Board, interp: InterpreterProfile): void {
  const ms = estimateLatencyMs(executed, board, interp.name);
  const text = `est. ${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms per inference on ${board.name} (${board.core} ${board.mhz} MHz)`;
  memory.summary += `; ${text}`;
  memory.details.push(`${text}: ${executed.toLocaleString('en-US')} executed wasm instructions; ${LATENCY_SOURCE}`);
  memory.figures = { ...memory.figures, executedInstructions: executed, latencyMs: ms, latencyIsEstimate: true };
}

/**
 * DENSE layout 2 (two rows per i64 multiply) under WAMR's classic interpreter: on 32-bit cores it
 * runs slower there than layout 1 (docs/PERFORMANCE.md, "DENSE layout 2 on a 32-bit core"), which
 * `convert --interpreter wamr-classic` writes. A note, not a failure: the blob runs correctly.
 */
function layoutNote(memory: Check, p: ParsedBlob, interp: InterpreterProfile): void {
  if (interp.name !== 'wamr-classic') return;
  const layers = p.ops.filter((op) => op.name === 'DENSE' && op.params.layout === 2).map((op) => op.layer || `op ${op.index}`);
  if (!layers.length) return;
  memory.details.push(
    `Dense layers ${layers.join(', ')}: layout 2, which WAMR's classic interpreter runs about 5-7% slower than layout 1 on 32-bit cores; convert with --interpreter wamr-classic for layout 1`,
  );
}

/** Every board under `interp`, whether the model fits it, smallest RAM first. */
function boardTable(
  p: ParsedBlob,
  blobBytes: number,
  info: RuntimeInfo,
  mem: MemoryMeasure | null,
  interp: InterpreterProfile,
  counted: { executed: number; code: CompiledCode } | null,
): BoardRow[] {
  const rows = BOARDS.map((board): BoardRow => {
    const c = checkMemory(p, blobBytes, info, mem, interp, { board }, counted?.code);
    const f = c.figures as any;
    const latencyMs = estimateLatencyMs(counted?.executed ?? 0, board, interp.name);
    const fits = c.status === 'PASS';
    const base = { board: board.name, ram: f.ram.total, ramUsable: board.ramUsable, flash: f.flash.total, flashUsable: board.flashUsable, latencyMs };
    return { ...base, interpreter: interp.name, fits, why: fits ? null : c.summary };
  });
  return rows.sort((a, b) => a.ramUsable - b.ramUsable);
}
