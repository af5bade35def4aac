/**
 * The runtime .wasm with its op loop tapped: a copy of the module with one host call at the top
 * of the op loop (tools/blob/count.ts `instrument`: the original instructions are copied byte for
 * byte, so the copy computes what the original computes). When the call fires for op k, op k-1
 * has just finished and nothing has run since, so its output tensor is intact in the arena even
 * when the memory plan reuses those bytes for a later tensor. After kw_invoke returns, the last
 * op's output is read the same way.
 *
 * Addresses come from the blob's tensor table: a tensor lives at its region's base + offset; the
 * arena base is the first input's address minus its offset, the state region follows the arena
 * (16-aligned), as docs/FORMAT.md §3 lays them out.
 */
import { readFileSync } from 'node:fs';
import { instrument, namesFromWat, runnerFunc } from './count.ts';
import { decodeAcceptedBlob, type ParsedBlob } from './parse.ts';
import { DTYPE, ERR, ERR_TEXT, HEADER, HEADER_SIZE, IMPORT_READ_BLOB, STORAGE } from './spec.ts';

type Int = Int8Array | Int16Array | Int32Array;

const tapped = new Map<string, WebAssembly.Module>();

async function tappedModule(wasmPath: string): Promise<WebAssembly.Module> {
  const hit = tapped.get(wasmPath);
  if (hit) return hit;
  const wasm = new Uint8Array(readFileSync(wasmPath));
  const names = namesFromWat(wasm, wasmPath.replace(/\.wasm$/, '.wat'));
  const hookFunc = runnerFunc(wasm, names);
  if (hookFunc < 0) throw new Error(`${wasmPath}: the op loop of kw_invoke was not found`);
  const mod = await WebAssembly.compile(instrument(wasm, { hookFunc, funcNames: names ?? undefined }).wasm as Uint8Array<ArrayBuffer>);
  tapped.set(wasmPath, mod);
  return mod;
}

export class OpTap {
  private hooks = 0;
  private onOpDone: (op: number) => void = () => {};
  private source: Uint8Array | null = null;
  private arena = 0;
  private state = 0;
  model!: ParsedBlob;

  private constructor(
    private readonly ex: Record<string, any>,
    /** the runtime reads a blob with a staging area through kw.read_blob (runtime-flash.wasm) */
    readonly streams: boolean,
  ) {}

  /** The tapped runtime at `wasmPath`. */
  static async load(wasmPath: string): Promise<OpTap> {
    let self: OpTap | null = null;
    const read = (off: number, dst: number, len: number) => self!.readBlob(off, dst, len);
    const mod = await tappedModule(wasmPath);
    const streams = WebAssembly.Module.imports(mod).some((i) => i.module === IMPORT_READ_BLOB.module && i.name === IMPORT_READ_BLOB.name);
    const inst = await WebAssembly.instantiate(mod, {
      bench: { hook: () => self!.hook() },
      [IMPORT_READ_BLOB.module]: { [IMPORT_READ_BLOB.name]: read },
    });
    self = new OpTap(inst.exports as Record<string, any>, streams);
    return self;
  }

  private get memory(): WebAssembly.Memory {
    return this.ex.memory;
  }

  private readBlob(off: number, dst: number, len: number): number {
    const src = this.source;
    if (!src || off < 0 || len < 0 || off + len > src.length) return -1;
    new Uint8Array(this.memory.buffer, dst, len).set(src.subarray(off, off + len));
    return len;
  }

  /** The k-th call fires at the top of loop iteration k: op k-1 has finished. */
  private hook(): void {
    const k = this.hooks++;
    if (k >= 1 && k - 1 < this.model.header.nOps) this.onOpDone(k - 1);
  }

  /** kw_init on `blob`, streamed as firmware streams it when the runtime can and the blob names a staging area; returns the runtime's error code. */
  init(blob: Uint8Array): number {
    const ex = this.ex;
    const staging = blob.length >= HEADER_SIZE ? new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(HEADER.stagingSize, true) : 0;
    if (this.streams && staging > 0) {
      this.source = blob;
      const e = ex.kw_blob_external(blob.length);
      if (e !== ERR.OK) return e;
    } else {
      const addr = ex.kw_blob_buffer(blob.length);
      if (!addr) return ex.kw_last_error() || ERR.OUT_OF_MEMORY;
      new Uint8Array(this.memory.buffer, addr, blob.length).set(blob);
    }
    const r = ex.kw_init();
    if (r !== ERR.OK) return r;
    this.model = decodeAcceptedBlob(blob);
    const first = this.model.io.inputs[0];
    this.arena = ex.kw_input_ptr(0) - this.model.tensors[first.tensor].offset;
    this.state = Math.ceil((this.arena + this.model.header.arenaSize) / 16) * 16;
    return ERR.OK;
  }

  /** A copy of tensor `t` as the runtime holds it at the time of the call. */
  read(t: number): Int {
    const info = this.model.tensors[t];
    const base = info.storage === STORAGE.STATE ? this.state : this.arena;
    const bytes = new Uint8Array(this.memory.buffer, base + info.offset, info.bytes).slice();
    if (info.dtype === DTYPE.INT16) return new Int16Array(bytes.buffer);
    if (info.dtype === DTYPE.INT32) return new Int32Array(bytes.buffer);
    return new Int8Array(bytes.buffer);
  }

  /** A copy of the arena and the state region as they are at the time of the call. */
  snapshot(): Uint8Array {
    const h = this.model.header;
    const out = new Uint8Array(h.arenaSize + h.stateSize);
    out.set(new Uint8Array(this.memory.buffer, this.arena, h.arenaSize));
    out.set(new Uint8Array(this.memory.buffer, this.state, h.stateSize), h.arenaSize);
    return out;
  }

  /** Puts back a snapshot (of this blob or of one with the same memory plan): the next op reads its inputs from it. */
  restore(snap: Uint8Array): void {
    const h = this.model.header;
    if (snap.length !== h.arenaSize + h.stateSize)
      throw new RangeError(`restore: ${snap.length} bytes, the blob's arena and state hold ${h.arenaSize + h.stateSize}`);
    new Uint8Array(this.memory.buffer, this.arena, h.arenaSize).set(snap.subarray(0, h.arenaSize));
    new Uint8Array(this.memory.buffer, this.state, h.stateSize).set(snap.subarray(h.arenaSize));
  }

  /**
   * One kw_invoke on raw `inputs` (state reset first); `done(op)` is called right after each op
   * finishes, while its outputs are intact. Returns the raw outputs.
   */
  invoke(inputs: ArrayBufferView[], done: (op: number) => void): Int[] {
    const ex = this.ex;
    ex.kw_reset_state();
    inputs.forEach((x, i) => {
      const size = ex.kw_input_size(i);
      if (x.byteLength !== size) throw new RangeError(`input ${i}: ${x.byteLength} bytes given, tensor has ${size}`);
      new Uint8Array(this.memory.buffer, ex.kw_input_ptr(i), size).set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    });
    const seen = new Set<number>();
    this.onOpDone = (op) => {
      seen.add(op);
      done(op);
    };
    this.hooks = 0;
    const r = ex.kw_invoke();
    this.onOpDone = () => {};
    if (r !== ERR.OK) throw new Error(`kw_invoke failed: ${ERR_TEXT[r] ?? r} (op ${ex.kw_error_op()})`);
    const last = this.model.header.nOps - 1;
    if (last >= 0 && !seen.has(last)) done(last);
    return this.model.io.outputs.map((o) => this.read(o.tensor));
  }
}

/** How far one op's outputs in blob A are from blob B's, over every input. */
export interface OpDiff {
  op: string;
  layer: string;
  /** largest |A - B| in LSB of the op's outputs */
  maxLsb: number;
  /** values that differ, of `total` */
  differ: number;
  total: number;
}

/**
 * Op-by-op comparison of two blobs with the same ops and memory plan (one model in two rounding
 * modes), on raw `inputs`: `chained` runs each blob on its own, so a difference carries into
 * the ops after it; `forced` restores B's arena before each op of A, so each op of A reads
 * exactly B's inputs and its own arithmetic alone makes the difference.
 */
export async function compareOps(a: Uint8Array, b: Uint8Array, runtime: string, inputs: ArrayBufferView[][]): Promise<{ chained: OpDiff[]; forced: OpDiff[] }> {
  const [ta, tb] = [await OpTap.load(runtime), await OpTap.load(runtime)];
  for (const [t, blob] of [[ta, a] as const, [tb, b] as const]) if (t.init(blob) !== ERR.OK) throw new Error('compareOps: kw_init failed');
  const ops = ta.model.ops;
  const outputsOf: number[][] = ops.map(() => []);
  ta.model.tensors.forEach((t, i) => t.meta && t.meta.writer >= 0 && outputsOf[t.meta.writer].push(i));
  const fresh = () => ops.map((op) => ({ op: op.name, layer: op.layer, maxLsb: 0, differ: 0, total: 0 }));
  const chained = fresh();
  const forced = fresh();
  const outs = (t: OpTap, op: number) => outputsOf[op].flatMap((i) => Array.from(t.read(i)));
  for (const x of inputs) {
    const wantOut: number[][] = [];
    const wantSnap: Uint8Array[] = [];
    tb.invoke(x, (op) => ((wantOut[op] = outs(tb, op)), (wantSnap[op] = tb.snapshot())));
    ta.invoke(x, (op) => tally(chained[op], outs(ta, op), wantOut[op]));
    ta.invoke(x, (op) => (tally(forced[op], outs(ta, op), wantOut[op]), op + 1 < ops.length && ta.restore(wantSnap[op])));
  }
  return { chained, forced };
}

function tally(d: OpDiff, got: number[], want: number[]): void {
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    d.total++;
    if (e) d.differ++;
    if (e > d.maxLsb) d.maxLsb = e;
  }
}
