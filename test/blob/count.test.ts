/**
 * bench/count.ts: the basic-block instruction counter is exact (checked opcode by opcode against
 * wabt's `wasm-interp --trace` on a small int8 kernel) and the instrumented runtime computes the
 * same outputs as the plain one.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CountingRuntime, countLoadAndInference, instrument, STRUCTURAL } from '../../tools/blob/count.ts';
import { DeviceSim, DEFAULT_WASM } from '../../firmware-host/node/host.ts';
import { convertWithSelfTest } from '../helpers/convert-harness.ts';
import { graphFromFile } from '../helpers/convert-harness.ts';
import { readArray } from '../../tools/readers/npy.ts';
import { rawInputs } from '../../tools/pipeline.ts';
import { repoRoot } from '../helpers/fixtures.ts';

// int8 dot products (4 outputs x 16 inputs) + a called activation with br_table, if/else, select
const KERNEL_WAT = `(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\\01\\02\\03\\fc\\05\\06\\f9\\08\\09\\0a\\0b\\f4\\0d\\0e\\0f\\10")
  (data (i32.const 16) "\\01\\ff\\02\\fe\\03\\fd\\04\\fc\\05\\fb\\06\\fa\\07\\f9\\08\\f8\\10\\20\\30\\40\\50\\60\\70\\7f\\80\\90\\a0\\b0\\c0\\d0\\e0\\f0\\05\\05\\05\\05\\05\\05\\05\\05\\05\\05\\05\\05\\05\\05\\05\\05\\f0\\e0\\d0\\c0\\b0\\a0\\90\\80\\7f\\70\\60\\50\\40\\30\\20\\10")
  (func $act (param $v i32) (param $kind i32) (result i32)
    block $relu block $clamp block $none
      local.get $kind
      br_table $none $clamp $relu $none
    end
    local.get $v
    return
    end
    local.get $v i32.const 127 local.get $v i32.const 127 i32.lt_s select
    local.tee $v
    i32.const -128 local.get $v i32.const -128 i32.gt_s select
    return
    end
    local.get $v i32.const 0 local.get $v i32.const 0 i32.gt_s select)
  (func (export "run") (result i32)
    (local $o i32) (local $k i32) (local $acc i32) (local $sum i32)
    loop $outs
      i32.const 0 local.set $acc
      i32.const 0 local.set $k
      loop $ks
        local.get $acc
        local.get $k i32.load8_s
        local.get $o i32.const 4 i32.shl local.get $k i32.add i32.load8_s offset=16
        i32.mul i32.add local.set $acc
        local.get $k i32.const 1 i32.add local.tee $k
        i32.const 16 i32.lt_u br_if $ks
      end
      local.get $o i32.const 1 i32.and
      if (result i32)
        local.get $acc i32.const 3 i32.shr_s
      else
        local.get $acc i32.const 2 i32.shr_s
      end
      local.get $o i32.const 3 i32.rem_u
      call $act
      local.set $acc
      local.get $o local.get $acc i32.store8 offset=96
      local.get $sum local.get $acc i32.add local.set $sum
      local.get $o i32.const 1 i32.add local.tee $o
      i32.const 4 i32.ne br_if $outs
    end
    local.get $sum))`;

// control transfer: wasm's if/else/br/br_if/br_table/return vs wabt's lowered br_unless/br/
// drop_keep/catch_drop/alloca/return; everything else maps one to one
const CONTROL = new Set(['if', 'else', 'br', 'br_if', 'br_table', 'return', 'unreachable', 'nop', 'call', ...STRUCTURAL]);
const WABT_ONLY = new Set(['alloca', 'drop_keep', 'catch_drop', 'br_unless', 'br', 'br_if', 'br_table', 'return', 'call', 'nop']);

const tmp = mkdtempSync(join(tmpdir(), 'kw-bench-count-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bench/count.ts instruction counter', () => {
  it('matches wasm-interp --trace opcode by opcode on a small kernel', async () => {
    const wat = join(tmp, 'k.wat');
    const wasm = join(tmp, 'k.wasm');
    writeFileSync(wat, KERNEL_WAT);
    execFileSync('wat2wasm', [wat, '-o', wasm]);
    const trace = execFileSync('wasm-interp', [wasm, '--run-all-exports', '--trace'], { encoding: 'utf8' });
    const lines = trace.split('\n').filter((l) => l.includes('| '));
    const wabt: Record<string, number> = {};
    for (const l of lines) {
      const op = l.slice(l.indexOf('| ') + 2).split(' ')[0];
      wabt[op] = (wabt[op] ?? 0) + 1;
    }
    expect(trace).toContain('run() => i32:427');
    expect(lines.length).toBeGreaterThan(1000);

    const inst = instrument(new Uint8Array(readFileSync(wasm)));
    const rt = await CountingRuntime.fromInstrumented(inst);
    expect(rt.exports.run()).toBe(427);
    const c = rt.summarise(null);
    const ours = c.histogram;
    // every data-path opcode executed the same number of times
    const dataOps = new Set([...Object.keys(ours).filter((k) => !CONTROL.has(k)), ...Object.keys(wabt).filter((k) => !WABT_ONLY.has(k))]);
    expect(dataOps.size).toBeGreaterThan(12);
    for (const op of dataOps) expect([op, ours[op] ?? 0]).toEqual([op, wabt[op] ?? 0]);
    // control: calls and br_tables one to one; wabt runs every `if` and every `br_if` as one br_unless
    expect(ours.call).toBe(wabt.call);
    expect(ours.br_table).toBe(wabt.br_table);
    expect((ours.if ?? 0) + (ours.br_if ?? 0)).toBe(wabt.br_unless);
    // totals: executed = all opcodes but block/loop/end
    const all = Object.entries(ours)
      .filter(([k]) => !STRUCTURAL.has(k))
      .reduce((a, [, v]) => a + v, 0);
    expect(c.executed).toBe(all);
    const data = [...dataOps].reduce((a, k) => a + (ours[k] ?? 0), 0);
    expect(data).toBe(1285); // wabt: 1453 trace lines = 1285 data-path + 168 control/frame (alloca, br, br_unless, br_table, call, catch_drop, drop_keep, return)
    expect(c.executed).toBe(data + ours.call + ours.br_table + ours.if + ours.else + ours.br_if + (ours.return ?? 0));
  });

  it('knows which functions ran and their body sizes (wasm-objdump)', async () => {
    // $unused is never called; run calls $b, which calls $a
    const wat = join(tmp, 'f.wat');
    const wasm = join(tmp, 'f.wasm');
    writeFileSync(
      wat,
      '(module (func $a (result i32) i32.const 1) (func $unused (result i32) i32.const 7 i32.const 8 i32.mul) (func $b (result i32) call $a i32.const 2 i32.add) (func (export "run") (result i32) call $b))',
    );
    execFileSync('wat2wasm', [wat, '-o', wasm]);
    const dump = execFileSync('wasm-objdump', ['-x', wasm], { encoding: 'utf8' });
    const sizes = [...dump.matchAll(/^ - func\[\d+\] size=(\d+)/gm)].map((m) => Number(m[1]));
    const inst = instrument(new Uint8Array(readFileSync(wasm)));
    expect(inst.bodyBytes).toEqual(sizes);
    expect(inst.exportedFuncs).toEqual([3]);
    const rt = await CountingRuntime.fromInstrumented(inst);
    expect(rt.ranFunctions().size).toBe(0);
    expect(rt.exports.run()).toBe(3);
    expect([...rt.ranFunctions()].sort()).toEqual([0, 2, 3]);
  });

  it('instrumented runtime gives the same outputs as the plain one and splits counts per op', async () => {
    const g = await graphFromFile(join(repoRoot, 'examples/model/model.json'), { batch: 1 });
    const calArr = readArray(join(repoRoot, 'examples/calibration.npy'));
    const cal = [{ shape: [...calArr.shape], data: calArr.data as Float32Array }];
    const r = await convertWithSelfTest(g, cal, 1);
    const sim = await DeviceSim.load(DEFAULT_WASM);
    sim.initOrThrow(r.blob);
    const rt = await CountingRuntime.load(DEFAULT_WASM);
    const model = rt.init(r.blob);
    const test = readArray(join(repoRoot, 'examples/test-inputs.npy'));
    const per = test.data.length / test.shape[0];
    let first = -1;
    for (let i = 0; i < 4; i++) {
      const x = { shape: [1, ...test.shape.slice(1)], data: (test.data as Float32Array).slice(i * per, (i + 1) * per) };
      const raw = rawInputs(r.lowered, [x], 1).map((b) => new Int8Array(b.buffer, b.byteOffset, b.byteLength));
      const plain = sim.run(raw)[0];
      const c = rt.count(model, raw);
      expect(Array.from(c.outputs[0])).toEqual(Array.from(plain));
      // the count is deterministic and attributable: per-op counts + loop overhead = total
      expect(c.ops.length).toBe(model.ops.length);
      expect(c.ops.reduce((a, o) => a + o.executed, 0) + c.overhead).toBe(c.executed);
      expect(c.executed).toBeGreaterThan(1000);
      if (i === 0) first = c.executed;
      if (i === 0) expect(rt.count(model, raw).executed).toBe(first);
    }
    // the code wasm3 compiles for this blob: what ran, plus every export; a Dense model runs a part
    const { code, count } = await countLoadAndInference(DEFAULT_WASM, r.blob, model.selfTest!.inputs);
    expect(count.executed).toBeGreaterThan(1000);
    const all = instrument(new Uint8Array(readFileSync(DEFAULT_WASM)));
    const exported = new Set(all.exportedFuncs);
    expect(code.totalFunctions).toBe(all.bodyBytes.length);
    expect(code.totalBodyBytes).toBe(all.bodyBytes.reduce((a, b) => a + b, 0));
    expect(code.functions).toBeGreaterThan(exported.size);
    expect(code.bodyBytes).toBeGreaterThan([...exported].reduce((a, f) => a + all.bodyBytes[f], 0));
    expect(code.bodyBytes).toBeLessThan(code.totalBodyBytes / 2);
  }, 60_000);
});
