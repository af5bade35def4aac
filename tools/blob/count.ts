/**
 * Deterministic executed-instruction counting for the runtime .wasm.
 *
 * Method (exact, no sampling): decode every function body of a copy of the module into its flat
 * instruction stream and split it into basic blocks. A block starts at the function entry and
 * right after every `loop`, `if`, `else`, `end`, `br`, `br_if`, `br_table`, `return` and
 * `unreachable`; it runs from its first instruction to the next block start. Control can only
 * enter a block at its start (wasm branches target a `loop` start or the instruction after an
 * `end`/`else`) and leave it at its end (the only mid-block exits are traps, which a successful
 * inference never takes; `call` returns to the next instruction). So every execution of a block
 * executes all its instructions exactly once, and
 *
 *     executed(opcode) = sum over blocks of  runs(block) x static count of opcode in block.
 *
 * The rewrite inserts a stack-neutral `global.get g; i32.const 1; i32.add; global.set g` at the
 * start of each block (one fresh exported mutable i32 global per block), so after a run the
 * globals hold runs(block). Nothing else in the module changes (the counters are extra globals,
 * the original instructions are copied byte for byte), so instrumented and original modules
 * compute the same outputs; test/blob/count.test.ts checks both claims, the counts against
 * wabt's `wasm-interp --trace`.
 *
 * What is counted: "executed" = every wasm instruction except the structural markers `block`,
 * `loop` and `end`, which no interpreter dispatches (wasm3, WAMR and wabt compile them away);
 * `if` and `else` count (they become a conditional and an unconditional jump). "dispatched" is
 * the WAMR fast-interpreter estimate used in the research notes: executed minus `local.get`,
 * `local.set`, `local.tee` and constants, which that interpreter folds into operand slots.
 *
 * Per-op attribution: optionally a host import `bench.hook` is called at the top of the
 * runtime's op loop (the outermost `loop` of runOps); the host snapshots the block counters
 * there, so counts split per executed op (and from the blob, per op type). Per-function
 * attribution needs function names; they come from the .wat the same asc run writes
 * (build/runtime.wat) and are only used when its function list matches the module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseBlob, type ParsedBlob } from './parse.ts';
import { ERR, ERR_TEXT, IMPORT_READ_BLOB } from './spec.ts';

// ---------------------------------------------------------------- opcode table

const NAMES: Record<number, string> = {
  0x00: 'unreachable',
  0x01: 'nop',
  0x02: 'block',
  0x03: 'loop',
  0x04: 'if',
  0x05: 'else',
  0x0b: 'end',
  0x0c: 'br',
  0x0d: 'br_if',
  0x0e: 'br_table',
  0x0f: 'return',
  0x10: 'call',
  0x11: 'call_indirect',
  0x1a: 'drop',
  0x1b: 'select',
  0x1c: 'select',
  0x20: 'local.get',
  0x21: 'local.set',
  0x22: 'local.tee',
  0x23: 'global.get',
  0x24: 'global.set',
  0x25: 'table.get',
  0x26: 'table.set',
  0x3f: 'memory.size',
  0x40: 'memory.grow',
  0x41: 'i32.const',
  0x42: 'i64.const',
  0x43: 'f32.const',
  0x44: 'f64.const',
  0xd0: 'ref.null',
  0xd1: 'ref.is_null',
  0xd2: 'ref.func',
};
const MEM = [
  'i32.load',
  'i64.load',
  'f32.load',
  'f64.load',
  'i32.load8_s',
  'i32.load8_u',
  'i32.load16_s',
  'i32.load16_u',
  'i64.load8_s',
  'i64.load8_u',
  'i64.load16_s',
  'i64.load16_u',
  'i64.load32_s',
  'i64.load32_u',
  'i32.store',
  'i64.store',
  'f32.store',
  'f64.store',
  'i32.store8',
  'i32.store16',
  'i64.store8',
  'i64.store16',
  'i64.store32',
];
MEM.forEach((n, i) => (NAMES[0x28 + i] = n));
const NUM = (
  'i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u ' +
  'i64.eqz i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u ' +
  'f32.eq f32.ne f32.lt f32.gt f32.le f32.ge f64.eq f64.ne f64.lt f64.gt f64.le f64.ge ' +
  'i32.clz i32.ctz i32.popcnt i32.add i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u i32.and i32.or i32.xor i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr ' +
  'i64.clz i64.ctz i64.popcnt i64.add i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u i64.and i64.or i64.xor i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr ' +
  'f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt f32.add f32.sub f32.mul f32.div f32.min f32.max f32.copysign ' +
  'f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt f64.add f64.sub f64.mul f64.div f64.min f64.max f64.copysign ' +
  'i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u i64.extend_i32_s i64.extend_i32_u ' +
  'i64.trunc_f32_s i64.trunc_f32_u i64.trunc_f64_s i64.trunc_f64_u f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s f32.convert_i64_u f32.demote_f64 ' +
  'f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s f64.convert_i64_u f64.promote_f32 i32.reinterpret_f32 i64.reinterpret_f64 f32.reinterpret_i32 f64.reinterpret_i64 ' +
  'i32.extend8_s i32.extend16_s i64.extend8_s i64.extend16_s i64.extend32_s'
).split(' ');
NUM.forEach((n, i) => (NAMES[0x45 + i] = n));
const FC_NAMES = [
  'i32.trunc_sat_f32_s',
  'i32.trunc_sat_f32_u',
  'i32.trunc_sat_f64_s',
  'i32.trunc_sat_f64_u',
  'i64.trunc_sat_f32_s',
  'i64.trunc_sat_f32_u',
  'i64.trunc_sat_f64_s',
  'i64.trunc_sat_f64_u',
  'memory.init',
  'data.drop',
  'memory.copy',
  'memory.fill',
  'table.init',
  'elem.drop',
  'table.copy',
  'table.grow',
  'table.size',
  'table.fill',
];

/** Structural markers: not dispatched by any interpreter, not counted as executed. */
export const STRUCTURAL = new Set(['block', 'loop', 'end']);
/** Folded into operand slots by WAMR fast-interp (the "dispatched" estimate excludes them). */
const SLOT_OPS = new Set(['local.get', 'local.set', 'local.tee', 'i32.const', 'i64.const', 'f32.const', 'f64.const']);
const LEADER_AFTER = new Set(['loop', 'if', 'else', 'end', 'br', 'br_if', 'br_table', 'return', 'unreachable']);

// ---------------------------------------------------------------- byte reading/writing

class Reader {
  constructor(
    public b: Uint8Array,
    public p = 0,
  ) {}
  byte(): number {
    if (this.p >= this.b.length) throw new Error('wasm: unexpected end');
    return this.b[this.p++];
  }
  u32(): number {
    let r = 0,
      s = 0,
      c;
    do {
      c = this.byte();
      r += (c & 0x7f) * 2 ** s;
      s += 7;
    } while (c & 0x80);
    return r;
  }
  /** skip a signed LEB of any width */
  sleb(): void {
    let c;
    do {
      c = this.byte();
    } while (c & 0x80);
  }
  bytes(n: number): Uint8Array {
    const r = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return r;
  }
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let c = n % 128;
    n = Math.floor(n / 128);
    if (n) c |= 0x80;
    out.push(c);
  } while (n);
  return out;
}
function str(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...uleb(b.length), ...b];
}
function section(id: number, payload: number[] | Uint8Array): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

// ---------------------------------------------------------------- decoding

interface Instr {
  op: string;
  start: number; // byte offsets inside the function body
  end: number;
  /** call target (function index) for `call` */
  callee?: number;
  /** byte offset of the call immediate */
  immAt?: number;
}

function skipBlockType(r: Reader): void {
  const c = r.b[r.p];
  if (c === 0x40 || c === 0x7f || c === 0x7e || c === 0x7d || c === 0x7c || c === 0x7b || c === 0x70 || c === 0x6f) r.p++;
  else r.sleb(); // type index (s33)
}

/** Decode one function body's instruction stream (after the locals). */
function decodeBody(body: Uint8Array, codeStart: number): Instr[] {
  const r = new Reader(body, codeStart);
  const out: Instr[] = [];
  while (r.p < body.length) {
    const start = r.p;
    const c = r.byte();
    let op = NAMES[c];
    let callee: number | undefined;
    let immAt: number | undefined;
    if (c === 0x02 || c === 0x03 || c === 0x04) skipBlockType(r);
    else if (c === 0x0c || c === 0x0d) r.u32();
    else if (c === 0x0e) {
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.u32();
    } else if (c === 0x10) {
      immAt = r.p;
      callee = r.u32();
    } else if (c === 0x11) {
      r.u32();
      r.u32();
    } else if (c === 0x1c) {
      const n = r.u32();
      r.bytes(n);
    } else if (c >= 0x20 && c <= 0x26) r.u32();
    else if (c >= 0x28 && c <= 0x3e) {
      r.u32();
      r.u32();
    } else if (c === 0x3f || c === 0x40) r.byte();
    else if (c === 0x41 || c === 0x42) r.sleb();
    else if (c === 0x43) r.bytes(4);
    else if (c === 0x44) r.bytes(8);
    else if (c === 0xd0) r.byte();
    else if (c === 0xd2) r.u32();
    else if (c === 0xfc) {
      const sub = r.u32();
      op = FC_NAMES[sub];
      if (sub === 8) {
        r.u32();
        r.byte();
      } else if (sub === 9 || sub === 13 || (sub >= 15 && sub <= 17)) r.u32();
      else if (sub === 10) {
        r.byte();
        r.byte();
      } else if (sub === 11) r.byte();
      else if (sub === 12 || sub === 14) {
        r.u32();
        r.u32();
      }
    } else if (!op) throw new Error(`wasm: unsupported opcode 0x${c.toString(16)} at body offset ${start}`);
    if (!op) throw new Error(`wasm: unsupported 0xfc sub-opcode at body offset ${start}`);
    out.push({ op, start, end: r.p, callee, immAt });
  }
  return out;
}

interface Section {
  id: number;
  start: number;
  end: number;
  payload: Uint8Array;
}

function sections(wasm: Uint8Array): Section[] {
  if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) throw new Error('not a wasm module');
  const r = new Reader(wasm, 8);
  const out: Section[] = [];
  while (r.p < wasm.length) {
    const id = r.byte();
    const n = r.u32();
    const start = r.p;
    out.push({ id, start, end: start + n, payload: wasm.subarray(start, start + n) });
    r.p += n;
  }
  return out;
}

/** Counts of imported functions / globals and type-section entries. */
function importCounts(s: Section | undefined): { funcs: number; globals: number } {
  if (!s) return { funcs: 0, globals: 0 };
  const r = new Reader(s.payload);
  let funcs = 0,
    globals = 0;
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    r.bytes(r.u32());
    r.bytes(r.u32());
    const kind = r.byte();
    if (kind === 0) {
      r.u32();
      funcs++;
    } else if (kind === 1) {
      r.byte();
      const f = r.byte();
      r.u32();
      if (f & 1) r.u32();
    } else if (kind === 2) {
      const f = r.byte();
      r.u32();
      if (f & 1) r.u32();
    } else if (kind === 3) {
      r.byte();
      r.byte();
      globals++;
    } else throw new Error(`wasm: unknown import kind ${kind}`);
  }
  return { funcs, globals };
}

// ---------------------------------------------------------------- instrumentation

interface BlockInfo {
  func: number; // defined-function index (0 = first function of the code section)
  ops: string[]; // the block's instructions in order
  executed: number; // static count excluding structural markers
  dispatched: number; // executed minus slot ops
}

export interface Instrumented {
  wasm: Uint8Array;
  blocks: BlockInfo[];
  /** names of defined functions (index = defined-function index) */
  funcNames: string[];
  /** defined-function index carrying the op-loop hook, or -1 */
  hookFunc: number;
  importedFuncs: number;
  /** byte size of each defined function's body in the original module (locals + code) */
  bodyBytes: number[];
  /** defined-function indices of the exported functions */
  exportedFuncs: number[];
}

export interface InstrumentOptions {
  /** defined-function index whose outermost loop gets `call bench.hook` at its top */
  hookFunc?: number;
  funcNames?: string[];
}

interface CodeRewrite {
  firstCounter: number;
  addHook: boolean;
  hookFunc: number;
  shift: number;
  remapFunc: (i: number) => number;
  /** function index of the added bench.hook import */
  hookIndex: number;
}

/** The code section with a counter increment at the start of every basic block (and the hook). */
function instrumentCode(payload: Uint8Array, o: CodeRewrite): { blocks: BlockInfo[]; bodies: number[][]; nFuncs: number; sizes: number[] } {
  const { firstCounter, addHook, hookFunc, shift, remapFunc, hookIndex } = o;
  const cr = new Reader(payload);
  const nFuncs = cr.u32();
  const blocks: BlockInfo[] = [];
  const bodies: number[][] = [];
  const sizes: number[] = [];
  for (let f = 0; f < nFuncs; f++) {
    const size = cr.u32();
    sizes.push(size);
    const body = cr.bytes(size);
    const br = new Reader(body);
    const nl = br.u32();
    for (let i = 0; i < nl; i++) {
      br.u32();
      br.byte();
    }
    const localsEnd = br.p;
    const ins = decodeBody(body, localsEnd);
    const out: number[] = [...body.subarray(0, localsEnd)];
    let cur: BlockInfo | null = null;
    let hooked = !addHook || f !== hookFunc;
    const startBlock = () => {
      const g = firstCounter + blocks.length;
      cur = { func: f, ops: [], executed: 0, dispatched: 0 };
      blocks.push(cur);
      out.push(0x23, ...uleb(g), 0x41, 0x01, 0x6a, 0x24, ...uleb(g));
    };
    let leaderNext = true;
    for (let k = 0; k < ins.length; k++) {
      const it = ins[k];
      const isFinalEnd = k === ins.length - 1;
      if (leaderNext && !isFinalEnd) startBlock();
      leaderNext = false;
      if (it.op === 'call' && shift) {
        out.push(0x10, ...uleb(remapFunc(it.callee!)));
      } else {
        out.push(...body.subarray(it.start, it.end));
      }
      if (cur) {
        const b = cur as BlockInfo;
        b.ops.push(it.op);
        if (!STRUCTURAL.has(it.op)) {
          b.executed++;
          if (!SLOT_OPS.has(it.op)) b.dispatched++;
        }
      }
      if (LEADER_AFTER.has(it.op)) leaderNext = true;
      if (!hooked && it.op === 'loop') {
        // the outermost loop of the op runner: block counter first, then the hook
        startBlock();
        leaderNext = false;
        out.push(0x10, ...uleb(hookIndex)); // call bench.hook (index = number of old func imports)
        hooked = true;
      }
    }
    if (!hooked) throw new Error(`instrument: function ${hookFunc} has no loop for the hook`);
    bodies.push([...uleb(out.length), ...out]);
  }
  return { blocks, bodies, nFuncs, sizes };
}

/** An element section with every function index remapped (flags 0 segments only). */
function remapElements(payload: Uint8Array, remapFunc: (i: number) => number): number[] {
  const r = new Reader(payload);
  const n = r.u32();
  const items: number[] = [];
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    if (flags !== 0) throw new Error(`instrument: element segment flags ${flags} not supported`);
    const e0 = r.p;
    const oc = r.byte(); // offset expr: i32.const n | global.get g, then end
    if (oc === 0x41) r.sleb();
    else if (oc === 0x23) r.u32();
    else throw new Error(`instrument: element offset opcode 0x${oc.toString(16)}`);
    if (r.byte() !== 0x0b) throw new Error('instrument: element offset expression too long');
    const expr = [...r.b.subarray(e0, r.p)];
    const m = r.u32();
    const fs: number[] = [];
    for (let j = 0; j < m; j++) fs.push(...uleb(remapFunc(r.u32())));
    items.push(0x00, ...expr, ...uleb(m), ...fs);
  }
  return [...uleb(n), ...items];
}

export function instrument(wasm: Uint8Array, opts: InstrumentOptions = {}): Instrumented {
  const secs = sections(wasm);
  const get = (id: number) => secs.find((s) => s.id === id);
  const imp = importCounts(get(2));
  const hookFunc = opts.hookFunc ?? -1;
  const addHook = hookFunc >= 0;
  const shift = addHook ? 1 : 0; // defined functions move up by one when the hook import is added
  const remapFunc = (i: number) => (i >= imp.funcs ? i + shift : i);

  // type section: append () -> () for the hook
  let typeCount = 0;
  const typeSec = get(1);
  if (typeSec) typeCount = new Reader(typeSec.payload).u32();
  const hookType = typeCount;

  // globals
  const globSec = get(6);
  let definedGlobals = 0;
  if (globSec) definedGlobals = new Reader(globSec.payload).u32();
  const firstCounter = imp.globals + definedGlobals;

  const codeSec = get(10);
  if (!codeSec) throw new Error('wasm: no code section');
  const { blocks, bodies, nFuncs, sizes } = instrumentCode(codeSec.payload, { firstCounter, addHook, hookFunc, shift, remapFunc, hookIndex: imp.funcs });

  // assemble the new module
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const counterExports: number[][] = blocks.map((_, i) => [...str(`__bb${i}`), 0x03, ...uleb(firstCounter + i)]);
  const sawSection = new Set<number>();
  const exportedFuncs: number[] = [];
  const emitTypes = () => {
    const r = typeSec ? new Reader(typeSec.payload) : null;
    if (r) r.u32();
    const rest = typeSec ? [...typeSec.payload.subarray(r!.p)] : [];
    const extra = addHook ? [0x60, 0x00, 0x00] : [];
    out.push(...section(1, [...uleb(typeCount + (addHook ? 1 : 0)), ...rest, ...extra]));
  };
  const emitImports = () => {
    const s = get(2);
    const r = s ? new Reader(s.payload) : null;
    const n = r ? r.u32() : 0;
    const rest = s ? [...s.payload.subarray(r!.p)] : [];
    // the hook goes last among the imports: its index is imp.funcs only when no func import
    // follows a non-func import... imports of other kinds do not take function indices, so
    // appending keeps every old imported function index and gives the hook index imp.funcs.
    const extra = addHook ? [...str('bench'), ...str('hook'), 0x00, ...uleb(hookType)] : [];
    out.push(...section(2, [...uleb(n + (addHook ? 1 : 0)), ...rest, ...extra]));
  };
  for (const s of secs) {
    sawSection.add(s.id);
    if (s.id === 0) {
      const r = new Reader(s.payload);
      const name = new TextDecoder().decode(r.bytes(r.u32()));
      if (name === 'name' || name === 'sourceMappingURL') continue; // indices change; drop
      out.push(...section(0, s.payload));
      continue;
    }
    // sections that must exist before a later one
    if (s.id > 1 && !sawSection.has(1) && addHook && !secs.some((x) => x.id === 1)) {
      emitTypes();
      sawSection.add(1);
    }
    if (s.id > 2 && !sawSection.has(2) && addHook && !secs.some((x) => x.id === 2)) {
      emitImports();
      sawSection.add(2);
    }
    if (s.id > 6 && !sawSection.has(6) && !globSec) {
      out.push(...section(6, [...uleb(blocks.length), ...blocks.flatMap(() => [0x7f, 0x01, 0x41, 0x00, 0x0b])]));
      sawSection.add(6);
    }
    switch (s.id) {
      case 1:
        emitTypes();
        break;
      case 2:
        emitImports();
        break;
      case 6: {
        const r = new Reader(s.payload);
        const n = r.u32();
        out.push(...section(6, [...uleb(n + blocks.length), ...s.payload.subarray(r.p), ...blocks.flatMap(() => [0x7f, 0x01, 0x41, 0x00, 0x0b])]));
        break;
      }
      case 7: {
        const r = new Reader(s.payload);
        const n = r.u32();
        const items: number[] = [];
        for (let i = 0; i < n; i++) {
          const name = r.bytes(r.u32());
          const kind = r.byte();
          const idx = r.u32();
          if (kind === 0 && idx >= imp.funcs) exportedFuncs.push(idx - imp.funcs);
          items.push(...uleb(name.length), ...name, kind, ...uleb(kind === 0 ? remapFunc(idx) : idx));
        }
        out.push(...section(7, [...uleb(n + blocks.length), ...items, ...counterExports.flat()]));
        break;
      }
      case 8: {
        const idx = new Reader(s.payload).u32();
        out.push(...section(8, uleb(remapFunc(idx))));
        break;
      }
      case 9:
        out.push(...section(9, shift ? remapElements(s.payload, remapFunc) : [...s.payload]));
        break;
      case 10:
        out.push(...section(10, [...uleb(nFuncs), ...bodies.flat()]));
        break;
      default:
        out.push(...section(s.id, s.payload));
    }
  }
  if (!sawSection.has(7)) throw new Error('instrument: module has no export section');
  const funcNames = opts.funcNames && opts.funcNames.length === nFuncs ? opts.funcNames : Array.from({ length: nFuncs }, (_, i) => `func${i}`);
  return { wasm: Uint8Array.from(out), blocks, funcNames, hookFunc, importedFuncs: imp.funcs, bodyBytes: sizes, exportedFuncs };
}

// ---------------------------------------------------------------- names

/**
 * Defined-function names of build/runtime.wasm from the .wat asc wrote next to it, in order.
 * Returns null when the .wat does not describe this module (different function count or an
 * export that points elsewhere).
 */
export function namesFromWat(wasm: Uint8Array, watPath: string): string[] | null {
  if (!existsSync(watPath)) return null;
  const wat = readFileSync(watPath, 'utf8');
  const names = [...wat.matchAll(/^ \(func \$(\S+)/gm)].map((m) => m[1]);
  const imports = importCounts(sections(wasm).find((s) => s.id === 2)).funcs;
  const codeSec = sections(wasm).find((s) => s.id === 10)!;
  const n = new Reader(codeSec.payload).u32();
  if (names.length !== n) return null;
  // every exported function must land on a wat function whose name ends with the export name
  const er = sections(wasm).find((s) => s.id === 7);
  if (er) {
    const r = new Reader(er.payload);
    const m = r.u32();
    for (let i = 0; i < m; i++) {
      const name = new TextDecoder().decode(r.bytes(r.u32()));
      const kind = r.byte();
      const idx = r.u32();
      // (identical functions may be merged: kw_abi_version -> kw_format_version)
      if (kind === 0 && !names[idx - imports]?.endsWith('/' + name) && !(name.startsWith('kw_') && /\/kw_/.test(names[idx - imports] ?? ''))) return null;
    }
  }
  return names;
}

// ---------------------------------------------------------------- running

interface OpCount {
  index: number;
  op: string;
  macs: number;
  executed: number;
  dispatched: number;
  /** executed instructions per defined function, by name */
  byFunction: Record<string, number>;
}

export interface CountResult {
  executed: number;
  dispatched: number;
  /** all opcodes including block/loop/end */
  histogram: Record<string, number>;
  byFunction: Record<string, number>;
  /** per executed op (empty when no hook) */
  ops: OpCount[];
  /** instructions outside the op loop bodies (invoke entry, loop exit) */
  overhead: number;
  outputs: (Int8Array | Int16Array | Int32Array)[];
}

/** Multiply-accumulates of one op from its blob params (0 for ops without a matrix product). */
export function opMacs(name: string, p: Record<string, number>): number {
  switch (name) {
    case 'DENSE':
      return p.rows * p.inDim * p.outDim;
    case 'CONV2D':
      return p.batch * p.outH * p.outW * p.outC * p.kH * p.kW * (p.inC / Math.max(1, p.groups));
    case 'DEPTHWISE_CONV2D':
      return p.batch * p.outH * p.outW * p.inC * p.depthMult * p.kH * p.kW;
    case 'SIMPLE_RNN':
      return p.batch * p.steps * p.units * (p.inDim + p.units);
    case 'GRU':
      return p.batch * p.steps * 3 * p.units * (p.inDim + p.units);
    case 'LSTM':
      return p.batch * p.steps * 4 * p.units * (p.inDim + p.units);
    default:
      return 0;
  }
}

/** The op runner: `runOps` by name, else the first callee of the exported kw_invoke that has a loop. */
export function runnerFunc(wasm: Uint8Array, names: string[] | null): number {
  if (names) {
    const i = names.findIndex((n) => /(^|\/)runOps$/.test(n));
    if (i >= 0) return i;
  }
  const secs = sections(wasm);
  const imports = importCounts(secs.find((s) => s.id === 2)).funcs;
  const er = secs.find((s) => s.id === 7);
  const code = secs.find((s) => s.id === 10);
  if (!er || !code) return -1;
  let invoke = -1;
  const r = new Reader(er.payload);
  const m = r.u32();
  for (let i = 0; i < m; i++) {
    const name = new TextDecoder().decode(r.bytes(r.u32()));
    const kind = r.byte();
    const idx = r.u32();
    if (kind === 0 && name === 'kw_invoke') invoke = idx - imports;
  }
  if (invoke < 0) return -1;
  const cr = new Reader(code.payload);
  const n = cr.u32();
  const bodies: Instr[][] = [];
  for (let f = 0; f < n; f++) {
    const body = cr.bytes(cr.u32());
    const br = new Reader(body);
    const nl = br.u32();
    for (let i = 0; i < nl; i++) {
      br.u32();
      br.byte();
    }
    bodies.push(decodeBody(body, br.p));
  }
  for (const it of bodies[invoke]) {
    if (it.op !== 'call' || it.callee! < imports) continue;
    const f = it.callee! - imports;
    if (bodies[f].some((x) => x.op === 'loop')) return f;
  }
  return -1;
}

/**
 * An instrumented runtime driven through the same ABI as firmware (kw_blob_buffer, copy,
 * kw_init, kw_input_ptr, kw_invoke, kw_output_ptr).
 */
export class CountingRuntime {
  private snapshots: Int32Array[] = [];
  private constructor(
    readonly inst: Instrumented,
    readonly exports: Record<string, any>,
    private counters: WebAssembly.Global[],
  ) {}

  /** blob served through kw.read_blob (streamed runtimes) */
  private source: Uint8Array | null = null;

  static async load(wasmPath: string, watPath = wasmPath.replace(/\.wasm$/, '.wat')): Promise<CountingRuntime> {
    const wasm = new Uint8Array(readFileSync(wasmPath));
    const names = namesFromWat(wasm, watPath);
    const inst = instrument(wasm, { funcNames: names ?? undefined, hookFunc: runnerFunc(wasm, names) });
    return CountingRuntime.fromInstrumented(inst);
  }

  static async fromInstrumented(inst: Instrumented): Promise<CountingRuntime> {
    let self: CountingRuntime | null = null;
    const mod = await WebAssembly.compile(inst.wasm as Uint8Array<ArrayBuffer>);
    const read = (off: number, dst: number, len: number) => self!.readBlob(off, dst, len);
    const instance = await WebAssembly.instantiate(mod, { bench: { hook: () => self!.snap() }, [IMPORT_READ_BLOB.module]: { [IMPORT_READ_BLOB.name]: read } });
    const ex = instance.exports as Record<string, any>;
    const counters = inst.blocks.map((_, i) => ex[`__bb${i}`] as WebAssembly.Global);
    self = new CountingRuntime(inst, ex, counters);
    return self;
  }

  private readBlob(off: number, dst: number, len: number): number {
    const src = this.source;
    if (!src || off < 0 || len < 0 || off + len > src.length) return -1;
    new Uint8Array(this.memory.buffer, dst, len).set(src.subarray(off, off + len));
    return len;
  }

  private snap(): void {
    const s = new Int32Array(this.counters.length);
    for (let i = 0; i < s.length; i++) s[i] = this.counters[i].value;
    this.snapshots.push(s);
  }

  reset(): void {
    for (const g of this.counters) g.value = 0;
    this.snapshots = [];
  }

  /** Defined functions with a block that ran since instantiation or the last reset. */
  ranFunctions(): Set<number> {
    const ran = new Set<number>();
    this.counters.forEach((g, i) => g.value && ran.add(this.inst.blocks[i].func));
    return ran;
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }

  /** Load `blob` copied in, or streamed through kw.read_blob when the runtime imports it and `streamed`. */
  init(blob: Uint8Array, streamed = false): ParsedBlob {
    if (streamed) {
      this.source = blob;
      if (this.exports.kw_blob_external(blob.length) !== ERR.OK) throw new Error(`kw_blob_external failed: ${ERR_TEXT[this.exports.kw_last_error()]}`);
    } else {
      const addr = this.exports.kw_blob_buffer(blob.length);
      if (!addr) throw new Error(`kw_blob_buffer failed: ${ERR_TEXT[this.exports.kw_last_error()]}`);
      new Uint8Array(this.memory.buffer, addr, blob.length).set(blob);
    }
    const r = this.exports.kw_init();
    if (r !== ERR.OK) throw new Error(`kw_init failed: ${ERR_TEXT[r] ?? r}`);
    return parseBlob(blob);
  }

  /** Write raw inputs, run one inference counting instructions, read raw outputs. */
  count(model: ParsedBlob, inputs: ArrayBufferView[]): CountResult {
    inputs.forEach((x, i) => {
      const ptr = this.exports.kw_input_ptr(i);
      const size = this.exports.kw_input_size(i);
      if (x.byteLength !== size) throw new Error(`input ${i}: ${x.byteLength} bytes, tensor has ${size}`);
      new Uint8Array(this.memory.buffer, ptr, size).set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    });
    this.reset();
    const r = this.exports.kw_invoke();
    if (r !== ERR.OK) throw new Error(`kw_invoke failed: ${ERR_TEXT[r] ?? r} (op ${this.exports.kw_error_op()})`);
    this.snap(); // final
    const outputs: (Int8Array | Int16Array | Int32Array)[] = [];
    for (let i = 0; i < this.exports.kw_num_outputs(); i++) {
      const bytes = new Uint8Array(this.memory.buffer, this.exports.kw_output_ptr(i), this.exports.kw_output_size(i)).slice();
      const dt = model.io.outputs[i].dtype;
      outputs.push(dt === 2 ? new Int16Array(bytes.buffer) : dt === 3 ? new Int32Array(bytes.buffer) : new Int8Array(bytes.buffer));
    }
    return { ...this.summarise(model), outputs };
  }

  /** Totals from the current counters (and per-op splits from the hook snapshots). */
  summarise(model: ParsedBlob | null): Omit<CountResult, 'outputs'> {
    const B = this.inst.blocks;
    const names = this.inst.funcNames;
    const final = this.snapshots.length ? this.snapshots[this.snapshots.length - 1] : Int32Array.from(this.counters.map((g) => g.value));
    const tally = (runs: ArrayLike<number>, sub?: ArrayLike<number>) => {
      let executed = 0,
        dispatched = 0;
      const byFunction: Record<string, number> = {};
      for (let i = 0; i < B.length; i++) {
        const n = runs[i] - (sub ? sub[i] : 0);
        if (!n) continue;
        executed += n * B[i].executed;
        dispatched += n * B[i].dispatched;
        const fn = names[B[i].func];
        byFunction[fn] = (byFunction[fn] ?? 0) + n * B[i].executed;
      }
      return { executed, dispatched, byFunction };
    };
    const all = tally(final);
    const histogram: Record<string, number> = {};
    for (let i = 0; i < B.length; i++) if (final[i]) for (const op of B[i].ops) histogram[op] = (histogram[op] ?? 0) + final[i];
    const ops: OpCount[] = [];
    let overhead = all.executed;
    // snapshots: one per op-loop iteration (taken at its top), possibly one more for the loop's
    // exit test (loop { if (i < n) { op; br } }), then the final one
    const S = this.snapshots.length;
    if (model && this.inst.hookFunc >= 0 && (S === model.ops.length + 1 || S === model.ops.length + 2)) {
      for (let k = 0; k < model.ops.length; k++) {
        const t = tally(this.snapshots[k + 1], this.snapshots[k]);
        const o = model.ops[k];
        ops.push({ index: k, op: o.name, macs: opMacs(o.name, o.params), ...t });
        overhead -= t.executed;
      }
    }
    return { executed: all.executed, dispatched: all.dispatched, histogram, byFunction: all.byFunction, ops, overhead };
  }
}

/**
 * The functions an interpreter that compiles lazily (WASM3) compiles for a blob: every function
 * that runs during instantiation, init, the self-test and one inference, plus every export (the
 * glue looks each one up at load, and WASM3 compiles a function when it is looked up).
 */
export interface CompiledCode {
  functions: number;
  /** summed byte size of those function bodies in the runtime .wasm */
  bodyBytes: number;
  totalFunctions: number;
  totalBodyBytes: number;
}

/** One counted inference (as countInference) and the code WASM3 compiles for init + self-test + that inference. */
export async function countLoadAndInference(
  wasmPath: string,
  blob: Uint8Array,
  inputs: ArrayBufferView[],
  streamed = false,
): Promise<{ count: CountResult; code: CompiledCode }> {
  const rt = await CountingRuntime.load(wasmPath);
  const model = rt.init(blob, streamed);
  if (model.selfTest && rt.exports.kw_self_test) rt.exports.kw_self_test();
  const ran = rt.ranFunctions();
  const count = rt.count(model, inputs);
  for (const f of [...rt.ranFunctions(), ...rt.inst.exportedFuncs]) ran.add(f);
  const sizes = rt.inst.bodyBytes;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return { count, code: { functions: ran.size, bodyBytes: sum([...ran].map((f) => sizes[f])), totalFunctions: sizes.length, totalBodyBytes: sum(sizes) } };
}

/** One counted inference of `blob` on raw `inputs` with a fresh instrumented runtime. */
export async function countInference(wasmPath: string, blob: Uint8Array, inputs: ArrayBufferView[], streamed = false): Promise<CountResult> {
  const rt = await CountingRuntime.load(wasmPath);
  const model = rt.init(blob, streamed);
  return rt.count(model, inputs);
}
