/**
 * Runtime fuzz harness: runs mutated blobs through the real build/runtime.wasm the way
 * firmware does (kw_blob_buffer -> copy -> kw_init -> write inputs -> kw_invoke ...) and checks:
 *
 *  - every call returns a documented error code (spec ERR) or a valid run, never a trap;
 *  - linear memory outside the planned regions is untouched: a snapshot of all of memory is taken
 *    before kw_init and before kw_invoke; afterwards only the runtime's scratch statics (CRC table,
 *    op area) and, after a successful init, [arena, kw_memory_used()) (arena + state +
 *    scratch) may differ. The blob itself must never change. Memory never grows past the limit;
 *  - input/output pointers lie inside the planned regions;
 *  - oracles: kw_init's code equals parseBlob's (the validator run in a fresh instance), parseBlob
 *    decodes every accepted blob, and a valid mutant whose ops have no input/output overlap gives
 *    bit-identical outputs to the integer reference (tools/blob/reference.ts).
 *
 * Hangs are caught by running campaigns in a worker thread (fuzz-worker.ts) that publishes the
 * index of the case it is on in shared memory; the parent kills it after a timeout.
 */
import { readFileSync } from 'node:fs';
import { DeviceSim, DEFAULT_WASM, FLASH_WASM } from '../../firmware-host/node/host.ts';
import { BlobError, parseBlob, type ParsedBlob } from '../../tools/blob/parse.ts';
import { DTYPE, ERR, FLAG, HEADER } from '../../tools/blob/spec.ts';
import { fixCrc } from '../../tools/blob/writer.ts';
import { runBlobReference, ReferenceError2 } from '../../tools/blob/reference.ts';
import { caseRng, mapBlob, mutateBlob, type BlobMap, type Rng } from './fuzz.ts';

const ERR_NAME: Record<number, string> = Object.fromEntries(Object.entries(ERR).map(([k, v]) => [v, k]));
const KNOWN_CODES = new Set<number>(Object.values(ERR));

type FailureKind =
  | 'trap'
  | 'exception'
  | 'unknown-code'
  | 'memory-write'
  | 'blob-modified'
  | 'memory-limit'
  | 'io-pointer'
  | 'invoke-error'
  | 'parse-mismatch'
  | 'parse-exception'
  | 'reference-mismatch'
  | 'reference-exception'
  | 'hang';

export interface CaseResult {
  /** where the case ended: init error, invoke error, or a full valid run */
  outcome: string;
  failure?: { kind: FailureKind; detail: string };
}

export interface SeedBlob {
  name: string;
  blob: Uint8Array;
}

export interface HarnessOptions {
  /** cap on linear memory (kw_set_memory_limit); bounds arena sizes and so the work per case */
  memoryLimit?: number;
  /** compare valid mutants against the integer reference (only blobs up to this many bytes) */
  referenceMaxBlob?: number;
  /** re-instantiate the runtime before a case when its memory has grown past this (default 1 MiB) */
  refreshAbove?: number;
  /** streamed: runtime-flash.wasm reads the mutated blob through kw.read_blob (kw_blob_external) */
  streamed?: boolean;
}

const align16 = (v: number) => Math.ceil(v / 16) * 16;

export class RuntimeHarness {
  private sim!: DeviceSim;
  private staticLo = 0;
  private staticHi = 0;
  private mask: [number, number] = [0, 0];
  readonly memoryLimit: number;
  readonly referenceMaxBlob: number;
  /** re-instantiate before a case when linear memory is larger than this */
  readonly refreshAbove: number;
  readonly streamed: boolean;
  private static modules = new Map<string, WebAssembly.Module>();

  private constructor(opts: HarnessOptions) {
    this.streamed = !!opts.streamed;
    this.memoryLimit = opts.memoryLimit ?? 16 << 20;
    this.referenceMaxBlob = opts.referenceMaxBlob ?? 32768;
    this.refreshAbove = opts.refreshAbove ?? 1 << 20;
  }

  static async create(opts: HarnessOptions = {}): Promise<RuntimeHarness> {
    const h = new RuntimeHarness(opts);
    await h.fresh();
    return h;
  }

  /** a new runtime instance (after a trap its globals cannot be trusted) */
  async fresh(): Promise<void> {
    this.sim = await DeviceSim.load(undefined, { memoryLimitBytes: this.memoryLimit, weights: this.streamed ? 'flash' : 'ram' });
    this.afterLoad();
  }

  /** synchronous re-instantiation from the already compiled module (DeviceSim caches it) */
  freshSync(): void {
    const path = this.streamed ? FLASH_WASM : DEFAULT_WASM;
    let mod = RuntimeHarness.modules.get(path);
    if (!mod) RuntimeHarness.modules.set(path, (mod = new WebAssembly.Module(readFileSync(path))));
    let sim: any = null;
    const imports: WebAssembly.Imports = this.streamed ? { kw: { read_blob: (o: number, d: number, l: number) => sim.readBlob(o, d, l) } } : {};
    const inst = new WebAssembly.Instance(mod, imports);
    sim = Reflect.construct(DeviceSim, [inst, { memoryLimitBytes: this.memoryLimit, weights: this.streamed ? 'flash' : 'ram' }]);
    this.sim = sim as DeviceSim;
    this.afterLoad();
  }

  private afterLoad(): void {
    const e = this.sim.exports;
    // before any blob, kw_memory_used() = static area + CRC table + op area (assembly/memory.ts)
    this.staticHi = e.kw_memory_used() >>> 0;
    this.staticLo = this.staticHi - 1024 - 544;
    this.mask = [e.kw_op_mask(0) >>> 0, e.kw_op_mask(1) >>> 0];
  }

  get exports() {
    return this.sim.exports;
  }

  /** Compare memory against a snapshot outside [staticLo, staticHi) and `allowed`. */
  private memDiff(snap: Uint8Array, allowed: [number, number][]): string | null {
    const mem = new Uint8Array(this.sim.exports.memory.buffer);
    const holes = [[this.staticLo, this.staticHi] as [number, number], ...allowed].sort((a, b) => a[0] - b[0]);
    let pos = 0;
    const check = (lo: number, hi: number): string | null => {
      // [lo, hi) must equal snap (zero beyond the snapshot's length)
      const sHi = Math.min(hi, snap.length);
      if (lo < sHi && Buffer.compare(mem.subarray(lo, sHi), snap.subarray(lo, sHi)) !== 0) {
        for (let i = lo; i < sHi; i++) if (mem[i] !== snap[i]) return `byte ${i} changed ${snap[i]} -> ${mem[i]}`;
      }
      for (let i = Math.max(lo, snap.length); i < hi; i++) if (mem[i] !== 0) return `byte ${i} (grown memory) written ${mem[i]}`;
      return null;
    };
    for (const [lo, hi] of holes) {
      if (lo > pos) {
        const d = check(pos, Math.min(lo, mem.length));
        if (d) return d;
      }
      pos = Math.max(pos, hi);
    }
    if (pos < mem.length) return check(pos, mem.length);
    return null;
  }

  private code(name: string, r: number): string | null {
    if (!KNOWN_CODES.has(r)) return `${name} returned unknown code ${r}`;
    return null;
  }

  /**
   * Run one blob (already mutated) through the runtime with random inputs drawn from `r`.
   * Never throws: every problem is returned as a failure.
   */
  runBlob(bytes: Uint8Array, r: Rng): CaseResult {
    try {
      // memory only grows: start over when a big case left it large (snapshots cost its size)
      if (this.sim.memoryBytes > this.refreshAbove) this.freshSync();
      return this.streamed ? this.runStreamed(bytes, r) : this.runInner(bytes, r);
    } catch (e) {
      const kind: FailureKind =
        e instanceof WebAssembly.RuntimeError ? 'trap' : e instanceof Error && e.constructor.name === 'MemoryLimitExceeded' ? 'memory-limit' : 'exception';
      return { outcome: 'crashed', failure: { kind, detail: `${(e as Error).message}` } };
    }
  }

  private runInner(bytes: Uint8Array, r: Rng): CaseResult {
    const e = this.sim.exports;
    const fail = (kind: FailureKind, detail: string, outcome = 'failed'): CaseResult => ({ outcome, failure: { kind, detail } });

    // the validator's verdict (tools/blob/validate.ts: a fresh runtime instance)
    let parsed: ParsedBlob | null = null;
    let parseCode = 0;
    try {
      parsed = parseBlob(bytes);
    } catch (err) {
      if (err instanceof BlobError) parseCode = err.code;
      else return fail('parse-exception', `parseBlob threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    }

    const addr = this.sim.call('kw_blob_buffer', bytes.length) >>> 0;
    if (addr === 0) {
      const le = e.kw_last_error();
      if (bytes.length > 0 && le !== ERR.OUT_OF_MEMORY) return fail('unknown-code', `kw_blob_buffer(${bytes.length}) returned 0 with last error ${le}`);
      const ir = this.sim.call('kw_init');
      if (ir !== ERR.NO_BLOB) return fail('invoke-error', `kw_init after a refused kw_blob_buffer returned ${ir}, expected NO_BLOB`);
      return { outcome: bytes.length === 0 ? 'init:NO_BLOB' : 'buffer:OUT_OF_MEMORY' };
    }
    if (addr % 16 !== 0 || addr < this.staticHi) return fail('io-pointer', `kw_blob_buffer returned ${addr}`);
    new Uint8Array(e.memory.buffer, addr, bytes.length).set(bytes);
    const blobCopy = bytes;
    let snap = new Uint8Array(e.memory.buffer).slice();

    const ir = this.sim.call('kw_init');
    let bad = this.code('kw_init', ir);
    if (bad) return fail('unknown-code', bad);
    const arena = align16(addr + bytes.length);
    const used = e.kw_memory_used() >>> 0;
    if (ir !== ERR.OK) {
      const d = this.memDiff(snap, []);
      if (d) return fail('memory-write', `kw_init (failed with ${ERR_NAME[ir]}) wrote outside its regions: ${d}`);
      if (ir !== parseCode && !(ir === ERR.OUT_OF_MEMORY && parseCode === 0))
        return fail('parse-mismatch', `kw_init ${ERR_NAME[ir]} but parseBlob ${ERR_NAME[parseCode] ?? 'OK'}`);
      // calls after a failed init must be refused
      const iv = this.sim.call('kw_invoke');
      if (iv !== ERR.NOT_READY) return fail('invoke-error', `kw_invoke after failed init returned ${iv}`);
      if (e.kw_input_ptr(0) !== 0 || e.kw_output_ptr(0) !== 0 || e.kw_num_inputs() !== 0)
        return fail('io-pointer', 'I/O pointers given out after a failed init');
      return { outcome: `init:${ERR_NAME[ir]}` };
    }
    if (parseCode !== 0) return fail('parse-mismatch', `kw_init OK but parseBlob ${ERR_NAME[parseCode]}`);
    if (used > this.memoryLimit) return fail('memory-limit', `kw_memory_used ${used} > limit ${this.memoryLimit}`);
    {
      const d = this.memDiff(snap, [[arena, used]]);
      if (d) return fail('memory-write', `kw_init wrote outside its regions: ${d}`);
    }
    const model = parsed!;
    const nIn = e.kw_num_inputs();
    const nOut = e.kw_num_outputs();
    if (nIn !== model.io.inputs.length || nOut !== model.io.outputs.length) return fail('io-pointer', `num inputs/outputs ${nIn}/${nOut} differ from the blob`);
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < nIn; i++) {
      const p = e.kw_input_ptr(i) >>> 0;
      const n = e.kw_input_size(i) >>> 0;
      if (p < arena || p + n > used || n !== model.io.inputs[i].bytes) return fail('io-pointer', `input ${i} at [${p}, +${n}) outside [${arena}, ${used})`);
      const info = model.io.inputs[i];
      let data: Uint8Array;
      if (info.dtype === DTYPE.INT32) {
        const ids = new Int32Array(n / 4);
        for (let k = 0; k < ids.length; k++) ids[k] = r.chance(0.02) ? r.pick([-1, 1 << 30, -0x80000000]) : r.int(0, 40);
        data = new Uint8Array(ids.buffer);
      } else data = r.bytes(n);
      new Uint8Array(e.memory.buffer, p, n).set(data);
      inputs.push(data);
    }
    for (let i = 0; i < nOut; i++) {
      const p = e.kw_output_ptr(i) >>> 0;
      const n = e.kw_output_size(i) >>> 0;
      if (p < arena || p + n > used || n !== model.io.outputs[i].bytes) return fail('io-pointer', `output ${i} at [${p}, +${n}) outside [${arena}, ${used})`);
    }
    // bad indices
    if (e.kw_input_ptr(nIn) !== 0 || e.kw_output_ptr(-1) !== 0 || e.kw_input_size(nIn) !== 0) return fail('io-pointer', 'out-of-range I/O index not refused');
    // the inputs as the runtime will see them (a later input may overwrite an aliased earlier one)
    const seen = Array.from({ length: nIn }, (_, i) => new Uint8Array(e.memory.buffer, e.kw_input_ptr(i) >>> 0, e.kw_input_size(i) >>> 0).slice());

    snap = new Uint8Array(e.memory.buffer).slice();
    const iv = this.sim.call('kw_invoke');
    bad = this.code('kw_invoke', iv);
    if (bad) return fail('unknown-code', bad);
    {
      const d = this.memDiff(snap, [[arena, used]]);
      if (d) return fail('memory-write', `kw_invoke (${ERR_NAME[iv]}) wrote outside arena/state/scratch: ${d}`);
    }
    if (Buffer.compare(new Uint8Array(e.memory.buffer, addr, bytes.length), blobCopy) !== 0)
      return fail('blob-modified', 'the blob buffer changed during kw_invoke');
    if (iv !== ERR.OK && iv !== ERR.BAD_INPUT_VALUE)
      return fail('invoke-error', `kw_invoke after a successful init returned ${ERR_NAME[iv]} (op ${e.kw_error_op()}); init should have refused the blob`);
    const outputs = Array.from({ length: nOut }, (_, i) => new Uint8Array(e.memory.buffer, e.kw_output_ptr(i) >>> 0, e.kw_output_size(i) >>> 0).slice());

    // differential: integer reference (stateless, no intra-op aliasing, small blobs)
    if (iv === ERR.OK && bytes.length <= this.referenceMaxBlob && !(model.header.flags & FLAG.STATEFUL) && noIntraOpAliasing(model)) {
      try {
        const ref = runBlobReference(model, seen);
        for (let i = 0; i < nOut; i++) {
          const rb = new Uint8Array(ref[i].buffer, ref[i].byteOffset, ref[i].byteLength);
          if (Buffer.compare(rb, outputs[i]) !== 0) {
            let k = 0;
            while (rb[k] === outputs[i][k]) k++;
            return fail('reference-mismatch', `output ${i} byte ${k}: runtime ${outputs[i][k]}, reference ${rb[k]}`, 'run:OK');
          }
        }
      } catch (err) {
        if (!(err instanceof ReferenceError2))
          return fail('reference-exception', `runBlobReference threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, 'run:OK');
        if (err.code !== iv) return fail('reference-mismatch', `reference failed with ${err.code}, runtime OK`, 'run:OK');
      }
    }

    // second round: reset, self-test, invoke again
    snap = new Uint8Array(e.memory.buffer).slice();
    const rs = this.sim.call('kw_reset_state');
    const st = this.sim.call('kw_self_test');
    const iv2 = this.sim.call('kw_invoke');
    for (const [n, c] of [
      ['kw_reset_state', rs],
      ['kw_self_test', st],
      ['kw_invoke', iv2],
    ] as const) {
      bad = this.code(n, c);
      if (bad) return fail('unknown-code', bad);
    }
    {
      const d = this.memDiff(snap, [[arena, used]]);
      if (d) return fail('memory-write', `reset/self-test/invoke wrote outside arena/state/scratch: ${d}`);
    }
    if (rs !== ERR.OK) return fail('invoke-error', `kw_reset_state returned ${rs}`);
    const hasST = (model.header.flags & FLAG.HAS_SELFTEST) !== 0;
    if (!hasST && st !== ERR.NO_SELFTEST) return fail('invoke-error', `kw_self_test without a vector returned ${ERR_NAME[st]}`);
    if (Buffer.compare(new Uint8Array(e.memory.buffer, addr, bytes.length), blobCopy) !== 0) return fail('blob-modified', 'the blob buffer changed');
    return { outcome: iv === ERR.OK ? (hasST ? `run:OK selftest:${ERR_NAME[st]}` : 'run:OK') : `invoke:${ERR_NAME[iv]}` };
  }

  /**
   * The streamed load sequence on a mutated blob served through kw.read_blob: every code is a
   * documented one, init writes only its own regions (tables, arena, state, scratch, staging),
   * invoke leaves the tables alone, and the verdict agrees with the copy-in validator for a blob
   * that names a staging area.
   */
  private runStreamed(bytes: Uint8Array, r: Rng): CaseResult {
    const e = this.sim.exports;
    const fail = (kind: FailureKind, detail: string, outcome = 'failed'): CaseResult => ({ outcome, failure: { kind, detail } });
    let parseCode = 0;
    let parsed: ParsedBlob | null = null;
    try {
      parsed = parseBlob(bytes);
    } catch (err) {
      if (err instanceof BlobError) parseCode = err.code;
      else return fail('parse-exception', `parseBlob threw ${(err as Error)?.message}`);
    }
    (this.sim as any).source = bytes;
    const xc = this.sim.call('kw_blob_external', bytes.length);
    if (xc !== ERR.OK) return xc === ERR.NO_BLOB && bytes.length === 0 ? { outcome: 'init:NO_BLOB' } : fail('unknown-code', `kw_blob_external returned ${xc}`);
    const base = align16(this.staticHi);
    let snap = new Uint8Array(e.memory.buffer).slice();
    const ir = this.sim.call('kw_init');
    const bad = this.code('kw_init', ir);
    if (bad) return fail('unknown-code', bad);
    const used = e.kw_memory_used() >>> 0;
    const d = this.memDiff(snap, ir === ERR.OK ? [[base, used]] : [[base, Math.max(base, e.memory.buffer.byteLength)]]);
    if (d) return fail('memory-write', `kw_init (${ERR_NAME[ir]}) wrote outside its regions: ${d}`);
    const staging = parsed?.header.stagingSize ?? 0;
    if (ir !== ERR.OK) {
      if (parseCode === 0 && staging > 0 && ir !== ERR.OUT_OF_MEMORY) return fail('parse-mismatch', `streamed kw_init ${ERR_NAME[ir]} but parseBlob OK`);
      if (this.sim.call('kw_invoke') !== ERR.NOT_READY) return fail('invoke-error', 'kw_invoke after a failed init was not refused');
      return { outcome: `init:${ERR_NAME[ir]}` };
    }
    if (parseCode !== 0 || staging === 0) return fail('parse-mismatch', `streamed kw_init OK but parseBlob ${ERR_NAME[parseCode] ?? 'OK'}, staging ${staging}`);
    if (used > this.memoryLimit) return fail('memory-limit', `kw_memory_used ${used} > limit ${this.memoryLimit}`);
    for (let i = 0; i < e.kw_num_inputs(); i++) {
      const n = e.kw_input_size(i) >>> 0;
      const ids = parsed!.io.inputs[i].dtype === DTYPE.INT32;
      const data = ids ? new Uint8Array(Int32Array.from({ length: n / 4 }, () => r.int(0, 40)).buffer) : r.bytes(n);
      new Uint8Array(e.memory.buffer, e.kw_input_ptr(i) >>> 0, n).set(data);
    }
    const tables = align16(base + parsed!.header.constsOff);
    snap = new Uint8Array(e.memory.buffer).slice();
    const iv = this.sim.call('kw_invoke');
    const bad2 = this.code('kw_invoke', iv);
    if (bad2) return fail('unknown-code', bad2);
    const d2 = this.memDiff(snap, [[tables, used]]);
    if (d2) return fail('memory-write', `streamed kw_invoke (${ERR_NAME[iv]}) wrote outside arena/state/scratch/staging: ${d2}`);
    if (iv !== ERR.OK && iv !== ERR.BAD_INPUT_VALUE) return fail('invoke-error', `streamed kw_invoke returned ${ERR_NAME[iv]} after a successful init`);
    return { outcome: iv === ERR.OK ? 'run:OK' : `invoke:${ERR_NAME[iv]}` };
  }
}

/** true when no op writes a tensor whose bytes overlap one of its inputs (so out-of-place = in-place) */
function noIntraOpAliasing(m: ParsedBlob): boolean {
  const range = (t: number) => {
    const x = m.tensors[t];
    return [x.storage, x.offset, x.offset + x.bytes] as const;
  };
  const overlap = (a: number, b: number) => {
    const [sa, la, ha] = range(a);
    const [sb, lb, hb] = range(b);
    return sa === sb && la < hb && lb < ha;
  };
  for (const op of m.ops) {
    const p = op.params as Record<string, number>;
    const outs = ['out'].map((k) => p[k]).filter((v) => v !== undefined);
    const ins = ['in', 'a', 'b', 'ids'].map((k) => p[k]).filter((v) => v !== undefined);
    const gs = (op.params as any).groups; // CONV2D has a numeric 'groups' param
    if (Array.isArray(gs)) for (const g of gs) if (g.tensor !== undefined) ins.push(g.tensor);
    for (const o of outs) for (const i of ins) if (overlap(o, i)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- campaigns

export interface CampaignSummary {
  cases: number;
  outcomes: Record<string, number>;
  failures: { seed: number; index: number; base: string; kind: FailureKind; detail: string; mutations: string[] }[];
  /** failures by kind (all of them; `failures` keeps the first few of each kind) */
  failureCounts: Record<string, number>;
  ms: number;
}

export function emptySummary(): CampaignSummary {
  return { cases: 0, outcomes: {}, failures: [], failureCounts: {}, ms: 0 };
}

export function mergeSummary(a: CampaignSummary, b: CampaignSummary, keepPerKind = 20): CampaignSummary {
  a.cases += b.cases;
  a.ms = Math.max(a.ms, b.ms);
  for (const [k, v] of Object.entries(b.outcomes)) a.outcomes[k] = (a.outcomes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(b.failureCounts)) a.failureCounts[k] = (a.failureCounts[k] ?? 0) + v;
  for (const f of b.failures) if (a.failures.filter((x) => x.kind === f.kind).length < keepPerKind) a.failures.push(f);
  return a;
}

export interface PreparedSeed extends SeedBlob {
  map: BlobMap;
}

/** The blob with a staging size in its header (the largest op's constants) so it can be streamed. */
export function streamable(blob: Uint8Array): Uint8Array {
  const p = parseBlob(blob);
  const out = blob.slice();
  const staging = Math.max(16, ...p.ops.map((o) => o.constsSize));
  new DataView(out.buffer).setUint32(HEADER.stagingSize, staging, true);
  return fixCrc(out);
}

export function prepareSeeds(seeds: SeedBlob[]): PreparedSeed[] {
  return seeds.map((s) => ({ ...s, map: mapBlob(s.blob) }));
}

/** The mutant of case `index` (pure function of seed, index and the seed blobs). */
export function fuzzCase(seeds: PreparedSeed[], seed: number, index: number) {
  const r = caseRng(seed, index);
  const base = seeds[r.int(0, seeds.length - 1)];
  const m = mutateBlob(base.blob, base.map, r);
  return { base, mutant: m, r };
}

/**
 * Run cases [start, start+count) of campaign `seed`. `progress` (shared Int32Array) gets the
 * index of the current case in slot 0 and the number done in slot 1 (for hang detection).
 */
export async function runCampaign(
  h: RuntimeHarness,
  seeds: PreparedSeed[],
  seed: number,
  start: number,
  count: number,
  progress?: Int32Array,
  keepPerKind = 20,
  /** self-check of the hang detector: case `hangAt` spins forever instead of running */
  hangAt = -1,
  /** indices not to run (cases that hung in an earlier worker) */
  skip: number[] = [],
): Promise<CampaignSummary> {
  const s = emptySummary();
  const t0 = Date.now();
  if (progress) Atomics.store(progress, 1, 0);
  for (let i = start; i < start + count; i++) {
    if (skip.includes(i)) continue;
    if (progress) Atomics.store(progress, 0, i);
    if (i === hangAt) for (;;);
    const { base, mutant, r } = fuzzCase(seeds, seed, i);
    const res = h.runBlob(mutant.bytes, r);
    s.cases++;
    s.outcomes[res.outcome] = (s.outcomes[res.outcome] ?? 0) + 1;
    if (res.failure) {
      s.failureCounts[res.failure.kind] = (s.failureCounts[res.failure.kind] ?? 0) + 1;
      if (s.failures.filter((f) => f.kind === res.failure!.kind).length < keepPerKind) {
        s.failures.push({ seed, index: i, base: base.name, kind: res.failure.kind, detail: res.failure.detail, mutations: mutant.ops });
      }
      if (res.failure.kind === 'trap' || res.failure.kind === 'exception' || res.failure.kind === 'memory-write') h.freshSync();
    }
    if (progress) Atomics.store(progress, 1, i - start + 1); // position in this chunk (for hang recovery)
  }
  s.ms = Date.now() - t0;
  return s;
}

/** The valid seed blobs every campaign mutates: one generated one-op blob per op kind and seed. */
export async function generatedSeeds(perOp = 2): Promise<SeedBlob[]> {
  const { GENERATORS, randDenseW16, rng } = await import('./opgen.ts');
  const out: SeedBlob[] = [];
  // DENSE layout 3 (int16 weights) alongside the one-op blobs of every op
  for (const [name, gen] of [...Object.entries(GENERATORS), ['DENSE_W16', randDenseW16] as const]) {
    for (let k = 0; k < perOp; k++) {
      try {
        out.push({ name: `${name}#${k}`, blob: gen(rng(1000 + 17 * k)).blob });
      } catch {
        /* a generator for an op the runtime does not build yet */
      }
    }
  }
  return out;
}
