/**
 * The integration skeletons in firmware-host/integrations (plain CMake / Zephyr, ESP-IDF,
 * Arduino) and the desktop build files, compiled on the host with -Wall -Wextra -Werror against
 * the interpreter test doubles in test/firmware/c (no interpreter is available in CI), then run:
 * each example loads the runtime, runs the blob's self-test and one inference.
 *
 * With WASM3_INC + WASM3_LIB (wasm3's source/ and a libm3.a you built) or WAMR_INC + WAMR_LIB
 * (core/iwasm/include and libvmlib.a / libiwasm.a) in the environment, the examples are also
 * linked against those real interpreters and run on the real runtime .wasm with a model
 * converted from examples/model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cNameFromFile, toCHeader, wasmToCHeader } from '../../tools/blob/c-header.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { toyBlob } from '../helpers/toy-blob.ts';

const has = (cmd: string) => spawnSync(cmd, ['--version']).status === 0;
const haveGcc = has('gcc');
const haveGxx = has('g++');
const haveCmake = has('cmake');
const haveMake = has('make');
if (!haveGcc) console.warn('gcc not found: skipping the integration skeleton compiles (apt-get install gcc)');
else if (!haveGxx) console.warn('g++ not found: skipping the Arduino sketch compile (apt-get install g++)');
if (haveGcc && !haveCmake) console.warn('cmake not found: skipping the CMake skeleton builds (apt-get install cmake)');

const FW = resolve(repoRoot, 'firmware-host');
const INT = resolve(FW, 'integrations');
const DOUBLES = resolve(repoRoot, 'test/firmware/c');
const dir = mkdtempSync(join(tmpdir(), 'kw-int-'));
const WARN = ['-Wall', '-Wextra', '-Werror'];
const FAKE = {
  wasm3: [resolve(DOUBLES, 'fake_wasm3.c'), resolve(DOUBLES, 'toy_runtime.c')],
  wamr: [resolve(DOUBLES, 'fake_wamr.c'), resolve(DOUBLES, 'toy_runtime.c')],
};
const GLUE = (interp: 'wasm3' | 'wamr') => [resolve(FW, 'src/kw_common.c'), resolve(FW, `src/kw_${interp}.c`)];

function run(cmd: string, args: string[], cwd = dir, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env });
  return { status: r.status, out: r.stdout ?? '', err: r.stderr ?? '', all: `${cmd} ${args.join(' ')}\n${r.stdout}${r.stderr}` };
}

function ok(r: ReturnType<typeof run>) {
  expect(r.status, r.all).toBe(0);
  return r;
}

/** model.h as `convert --c-header model.h` names it (model[], MODEL_*). */
function writeModelHeader(into: string, blob: Uint8Array) {
  mkdirSync(into, { recursive: true });
  writeFileSync(join(into, 'model.h'), toCHeader(blob, { name: cNameFromFile('model.h').replace(/_h$/, ''), source: 'model.blob' }));
}

/** runtime_wasm.h as `wasm2h build/runtime.wasm -o runtime_wasm.h` names it (runtime_wasm[], RUNTIME_WASM_*). */
function writeRuntimeHeader(into: string, wasm: Uint8Array) {
  mkdirSync(into, { recursive: true });
  writeFileSync(join(into, 'runtime_wasm.h'), wasmToCHeader(wasm, { name: cNameFromFile('build/runtime.wasm'), source: 'runtime.wasm' }));
}

const fakeWasm = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const HDR = join(dir, 'headers');

/** What every example prints on the toy runtime: the self-test passes and the zeros come back. */
function expectToyRun(stdout: string, interp: string) {
  expect(stdout).toContain(`kerawasm on ${interp}`);
  expect(stdout).toContain('self-test: PASS');
  expect(stdout).toMatch(/output\[3\] = 0/);
}

/** The Wasm3 library's place in a sketch build: the wasm3 double, compiled to objects. */
function wasm3Double(into: string): Wasm3Lib {
  const objs = FAKE.wasm3.map((f, i) => {
    const o = join(into, `fake${i}.o`);
    ok(run('gcc', [...WARN, '-std=c99', `-I${DOUBLES}`, `-I${resolve(FW, 'include')}`, '-c', f, '-o', o]));
    return o;
  });
  return { inc: DOUBLES, link: objs };
}

interface Wasm3Lib {
  inc: string;
  link: string[];
}

/**
 * Builds the example sketch as the Arduino builder does: the library's src/ on -I, its src/*.c
 * compiled as C (C99 here), the sketch as C++ (gnu++11) with Arduino.h included first, the
 * headers in the sketch folder. Links with the Arduino double and runs setup() + loop() twice.
 */
function buildSketch(libDir: string, tag: string, opts: { hdr: string; wasm3: (into: string) => Wasm3Lib; extra?: string[] }): string {
  const src = join(libDir, 'src');
  const sketchDir = join(dir, `sketch_${tag}`);
  mkdirSync(sketchDir, { recursive: true });
  cpSync(join(libDir, 'examples/KerawasmModel/KerawasmModel.ino'), join(sketchDir, 'KerawasmModel.ino'));
  cpSync(join(opts.hdr, 'model.h'), join(sketchDir, 'model.h'));
  cpSync(join(opts.hdr, 'runtime_wasm.h'), join(sketchDir, 'runtime_wasm.h'));
  const wasm3 = opts.wasm3(sketchDir);
  const objs: string[] = [];
  for (const c of readdirSync(src).filter((n) => n.endsWith('.c'))) {
    const o = join(sketchDir, c.replace(/\.c$/, '.o'));
    ok(run('gcc', [...WARN, '-std=c99', '-O2', `-I${src}`, `-I${wasm3.inc}`, '-c', join(src, c), '-o', o]));
    objs.push(o);
  }
  const arduino = resolve(DOUBLES, 'arduino');
  const cxx = [...WARN, '-std=gnu++11', ...(opts.extra ?? []), `-I${src}`, `-I${arduino}`];
  const ino = join(sketchDir, 'sketch.o');
  ok(run('g++', [...cxx, '-x', 'c++', '-include', 'Arduino.h', '-c', join(sketchDir, 'KerawasmModel.ino'), '-o', ino]));
  const exe = join(sketchDir, 'sketch');
  ok(run('g++', [...cxx, ino, ...objs, resolve(arduino, 'arduino_main.cpp'), ...wasm3.link, '-o', exe]));
  return ok(run(exe, [])).out;
}

describe.skipIf(!haveGcc)('integration skeletons compile with -Wall -Wextra -Werror against the test doubles and run', () => {
  beforeAll(() => {
    writeModelHeader(HDR, toyBlob(0.25));
    writeRuntimeHeader(HDR, fakeWasm);
  });

  it('plain CMake / Zephyr example (C99 and C11) on the wasm3 and WAMR doubles', () => {
    for (const interp of ['wasm3', 'wamr'] as const) {
      for (const std of ['-std=c99', '-std=c11']) {
        const exe = join(dir, `cmake_example_${interp}`);
        const src = [resolve(INT, 'cmake/example/main.c'), ...GLUE(interp), ...FAKE[interp]];
        ok(run('gcc', [...WARN, std, `-I${HDR}`, `-I${resolve(FW, 'include')}`, `-I${DOUBLES}`, ...src, '-o', exe]));
        expectToyRun(ok(run(exe, [])).out, interp);
      }
    }
  });

  it('ESP-IDF example main.c on the wasm3 and WAMR doubles (esp_timer double)', () => {
    for (const interp of ['wasm3', 'wamr'] as const) {
      const exe = join(dir, `idf_example_${interp}`);
      const src = [resolve(INT, 'esp-idf/example/main/main.c'), resolve(DOUBLES, 'esp-idf/app_main_host.c'), ...GLUE(interp), ...FAKE[interp]];
      const inc = [`-I${HDR}`, `-I${resolve(FW, 'include')}`, `-I${DOUBLES}`, `-I${resolve(DOUBLES, 'esp-idf')}`];
      ok(run('gcc', [...WARN, '-std=gnu99', ...inc, ...src, '-o', exe]));
      const r = ok(run(exe, []));
      expectToyRun(r.out, interp);
      expect(r.out).toMatch(/inference: \d+ us/);
    }
  });

  describe.skipIf(!haveGxx)('Arduino library and sketch on the wasm3 double (as Arduino compiles it: lib src/ on -I)', () => {
    const lib = resolve(INT, 'arduino');
    const props = readFileSync(join(lib, 'library.properties'), 'utf8');

    it('library.properties names the library, its header and the Wasm3 dependency', () => {
      expect(props).toMatch(/^name=kerawasm$/m);
      expect(props).toMatch(/^depends=Wasm3$/m);
      expect(props).toMatch(/^version=\d+\.\d+\.\d+$/m);
      const includes = /^includes=(.*)$/m.exec(props)?.[1];
      expect(includes && existsSync(join(lib, 'src', includes)), `includes=${includes}`).toBe(true);
      expect(readdirSync(join(lib, 'examples'))).toContain('KerawasmModel');
    });

    it('used in place from the checkout', () => {
      const out = buildSketch(lib, 'inplace', { hdr: HDR, wasm3: wasm3Double });
      expectToyRun(out, 'wasm3');
      expect(out).toMatch(/inference: \d+ us/);
      expect(out.match(/output\[0\] =/g)).toHaveLength(2); // two passes of loop()
    });

    it('linked into a sketchbook (the wrappers reach the glue through the link)', () => {
      const book = join(dir, 'Arduino/libraries');
      mkdirSync(book, { recursive: true });
      symlinkSync(lib, join(book, 'kerawasm'));
      expectToyRun(buildSketch(join(book, 'kerawasm'), 'linked', { hdr: HDR, wasm3: wasm3Double }), 'wasm3');
    });

    it('copied, with the glue files copied over the wrappers as the README says', () => {
      const copy = join(dir, 'copied/kerawasm');
      cpSync(lib, copy, { recursive: true });
      for (const f of ['include/kw_runtime.h', 'include/kw_abi.h', 'src/kw_backend.h', 'src/kw_common.c', 'src/kw_wasm3.c'])
        cpSync(resolve(FW, f), join(copy, 'src', f.replace(/^.*\//, '')));
      expectToyRun(buildSketch(copy, 'copied', { hdr: HDR, wasm3: wasm3Double }), 'wasm3');
    });

    it("with the ESP32 core's SET_LOOP_TASK_STACK_SIZE", () => {
      expectToyRun(buildSketch(lib, 'esp32', { hdr: HDR, wasm3: wasm3Double, extra: ['-DKW_DOUBLE_ESP32'] }), 'wasm3');
    });
  });
});

describe.skipIf(!haveGcc || !haveCmake)('CMake skeletons', () => {
  const stub = resolve(DOUBLES, 'esp-idf/idf_stub.cmake');
  const component = resolve(INT, 'esp-idf/kerawasm/CMakeLists.txt');
  const idf = (props: Record<string, string>, early: boolean) => {
    const defs = Object.entries(props).map(([k, v]) => `-D${k}=${v}`);
    const r = run('cmake', [...defs, `-DCMAKE_BUILD_EARLY_EXPANSION=${early ? 1 : 0}`, `-DCOMPONENT=${component}`, '-P', stub]);
    const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(r.err)?.[1]?.split(';').filter(Boolean) ?? [];
    return { r, srcs: field('SRCS'), incs: field('INCLUDE_DIRS'), reqs: field('REQUIRES'), priv: field('PRIV_REQUIRES') };
  };

  it('ESP-IDF component: existing glue sources and include folder, the interpreter component from a build property', () => {
    for (const early of [true, false]) {
      const d = idf({}, early);
      expect(d.r.status, d.r.all).toBe(0);
      expect(d.srcs.map((s) => s.replace(/^.*\//, ''))).toEqual(['kw_common.c', 'kw_wasm3.c']);
      for (const s of [...d.srcs, ...d.incs]) expect(existsSync(s), s).toBe(true);
      expect(d.incs.map((s) => resolve(s))).toEqual([resolve(FW, 'include')]);
      expect(d.priv).toEqual(['wasm3']);
      const w = idf({ KW_INTERPRETER: 'wamr' }, early);
      expect(w.srcs.map((s) => s.replace(/^.*\//, ''))).toEqual(['kw_common.c', 'kw_wamr.c']);
      expect(w.priv).toEqual(['espressif__wasm-micro-runtime']);
      expect(idf({ KW_INTERPRETER: 'wamr', KW_INTERPRETER_COMPONENT: 'wamr' }, early).priv).toEqual(['wamr']);
      expect(idf({ KW_INTERPRETER_COMPONENT: 'my_wasm3' }, early).priv).toEqual(['my_wasm3']);
    }
    const bad = idf({ KW_INTERPRETER: 'wasmtime' }, false);
    expect(bad.r.status).not.toBe(0);
    expect(bad.r.err).toContain('KW_INTERPRETER must be wasm3 or wamr');
    const moved = idf({ KW_FIRMWARE_HOST: join(dir, 'nowhere') }, false);
    expect(moved.r.status).not.toBe(0);
    expect(moved.r.err).toContain('KW_FIRMWARE_HOST');
  });

  it('integrations/cmake: a `kerawasm` target linked to an interpreter target, or to an executable that compiles the interpreter', () => {
    const p = (s: string) => s.replace(/\\/g, '/');
    const fakes = FAKE.wasm3.map((f) => `"${p(f)}"`).join(' ');
    const variants = {
      // the interpreter library the project builds its own way
      target: `add_library(fake_m3 STATIC ${fakes})
target_include_directories(fake_m3 PUBLIC "${p(DOUBLES)}" PRIVATE "${p(resolve(FW, 'include'))}")
set(KW_INTERPRETER_TARGET fake_m3)`,
      // the interpreter's sources compiled into the executable (WAMR's Zephyr samples do this)
      'include-only': `set(KW_INTERPRETER_INCLUDE "${p(DOUBLES)}")
set(APP_EXTRA ${fakes})`,
    };
    for (const [name, interp] of Object.entries(variants)) {
      const proj = join(dir, `cmake-user-${name}`);
      mkdirSync(proj, { recursive: true });
      writeFileSync(
        join(proj, 'CMakeLists.txt'),
        `cmake_minimum_required(VERSION 3.13)
project(user C)
${interp}
set(KW_INTERPRETER wasm3)
add_subdirectory("${p(resolve(INT, 'cmake'))}" kerawasm)
target_compile_options(kerawasm PRIVATE -Wall -Wextra -Werror)
add_executable(app "${p(resolve(INT, 'cmake/example/main.c'))}" \${APP_EXTRA})
target_include_directories(app PRIVATE "${p(HDR)}" "${p(resolve(FW, 'include'))}" "${p(DOUBLES)}")
target_link_libraries(app PRIVATE kerawasm)
`,
      );
      ok(run('cmake', ['-S', proj, '-B', join(proj, 'b')]));
      ok(run('cmake', ['--build', join(proj, 'b')]));
      expectToyRun(ok(run(join(proj, 'b/app'), [])).out, 'wasm3');
    }
  });

  it('firmware-host/CMakeLists.txt takes a library and its include folder, and defaults to Release', () => {
    const lib = fakeLibrary('wamr');
    const b = join(dir, 'cmake-desktop');
    const inc = DOUBLES;
    ok(run('cmake', ['-S', FW, '-B', b, '-DKW_INTERPRETER=wamr', `-DKW_INTERPRETER_LIB=${lib}`, `-DKW_INTERPRETER_INCLUDE=${inc}`]));
    expect(readFileSync(join(b, 'CMakeCache.txt'), 'utf8')).toMatch(/^CMAKE_BUILD_TYPE:STRING=Release$/m);
    ok(run('cmake', ['--build', b]));
    expect(ok(run(join(b, 'main_wamr'), [join(dir, 'fake.wasm'), join(dir, 'toy.blob')])).out).toContain('self-test: PASS');
    const none = run('cmake', ['-S', FW, '-B', join(dir, 'cmake-none'), '-DKW_INTERPRETER=wasm3']);
    expect(none.status).not.toBe(0);
    expect(none.err).toContain('KW_INTERPRETER_LIB');
  });
});

/** A static library made of a test double, standing in for libm3.a / libvmlib.a. Also writes fake.wasm and toy.blob. */
function fakeLibrary(interp: 'wasm3' | 'wamr'): string {
  const objs = FAKE[interp].map((f, i) => {
    const o = join(dir, `fake_${interp}_${i}.o`);
    ok(run('gcc', [...WARN, '-std=c99', `-I${DOUBLES}`, `-I${resolve(FW, 'include')}`, '-c', f, '-o', o]));
    return o;
  });
  const lib = join(dir, `libfake_${interp}.a`);
  ok(run('ar', ['rcs', lib, ...objs]));
  writeFileSync(join(dir, 'fake.wasm'), fakeWasm);
  writeFileSync(join(dir, 'toy.blob'), toyBlob(0.25));
  return lib;
}

describe.skipIf(!haveGcc || !haveMake)('Makefile: links the glue to the library the user names', () => {
  // make reads the environment too: the real-interpreter variables (bottom of this file) must not reach it
  const env = { ...process.env };
  for (const v of ['WASM3_INC', 'WASM3_LIB', 'WAMR_INC', 'WAMR_LIB']) delete env[v];
  const make = (args: string[]) => run('make', ['-s', '-C', FW, `BUILD=${join(dir, 'make')}`, ...args], dir, env);

  it('says in one line which path is missing', () => {
    for (const [target, args, want] of [
      ['wasm3', [], 'WASM3_INC'],
      ['wasm3', [`WASM3_INC=${DOUBLES}`], 'WASM3_LIB'],
      ['wamr', [`WAMR_INC=${join(dir, 'nowhere')}`], 'WAMR_INC'],
      ['wamr', [`WAMR_INC=${DOUBLES}`, `WAMR_LIB=${join(dir, 'nowhere.a')}`], 'WAMR_LIB'],
    ] as const) {
      const r = make([target, ...args]);
      expect(r.status, r.all).not.toBe(0);
      expect(r.err.trim().split('\n'), r.all).toHaveLength(1);
      expect(r.err).toContain(`set ${want}`);
    }
  });

  it('make wasm3 / make wamr build the desktop example against a library and run it', () => {
    for (const interp of ['wasm3', 'wamr'] as const) {
      const lib = fakeLibrary(interp);
      const V = interp.toUpperCase();
      ok(make([interp, `${V}_INC=${DOUBLES}`, `${V}_LIB=${lib}`]));
      const r = ok(run(join(dir, 'make', `main_${interp}`), [join(dir, 'fake.wasm'), join(dir, 'toy.blob')]));
      expect(r.out).toContain(`interpreter ${interp}`);
      expect(r.out).toContain('self-test: PASS');
    }
  });
});

describe('build files compile only the project glue', () => {
  const buildFiles = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = join(d, e.name);
      if (e.isDirectory()) return buildFiles(p);
      return /^(Makefile|CMakeLists\.txt|.*\.cmake|library\.properties|idf_component\.yml|sdkconfig\.defaults)$/.test(e.name) ? [p] : [];
    });

  it('no Makefile or CMake file under firmware-host names interpreter sources or their build scripts', () => {
    const files = buildFiles(FW);
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/source\/\*\.c|m3_\w*\.c|runtime_lib\.cmake|WAMR_RUNTIME_LIB_SOURCE|build-scripts|iwasm\/\w+\/\w+\.c/);
      expect(text, f).not.toMatch(/add_subdirectory\((?![^)]*integrations\/cmake)/);
      expect(text, f).not.toMatch(/file\s*\(\s*GLOB/);
    }
  });
});

describe('the firmware docs name what the build files take', () => {
  const docs = [resolve(repoRoot, 'docs/FIRMWARE.md'), ...['esp-idf', 'arduino', 'cmake'].map((d) => resolve(INT, d, 'README.md'))];

  it('make variables, CMake options and ESP-IDF build properties in the docs exist in the build files', () => {
    const makefile = readFileSync(resolve(FW, 'Makefile'), 'utf8');
    const cmake = readFileSync(resolve(FW, 'CMakeLists.txt'), 'utf8') + readFileSync(resolve(INT, 'cmake/CMakeLists.txt'), 'utf8');
    const component = readFileSync(resolve(INT, 'esp-idf/kerawasm/CMakeLists.txt'), 'utf8');
    for (const f of docs) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/WASM3_DIR|WAMR_DIR|~20 KiB/);
      for (const [, v] of text.matchAll(/make -C firmware-host \w+ ((?:\w+=\S+ ?)+)/g))
        for (const name of v
          .trim()
          .split(' ')
          .map((a) => a.split('=')[0]))
          expect(makefile, `${f}: make ${name}`).toContain(`$(${name})`);
      for (const [, name] of text.matchAll(/-D(KW_\w+)=/g)) expect(cmake, `${f}: -D${name}`).toContain(name);
      for (const [, name] of text.matchAll(/idf_build_set_property\((KW_\w+)/g))
        expect(component, `${f}: ${name}`).toMatch(new RegExp(`idf_build_get_property\\(\\w+ ${name}\\)`));
    }
  });

  it('the links from docs/FIRMWARE.md to the skeletons resolve', () => {
    const text = readFileSync(docs[0], 'utf8');
    const links = [...text.matchAll(/\]\((\.\.\/firmware-host\/[^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThanOrEqual(3);
    for (const l of links) expect(existsSync(resolve(repoRoot, 'docs', l)), l).toBe(true);
  });
});

// Real interpreters, only when their library and headers are given (see the top of this file).
const real = {
  wasm3: process.env.WASM3_INC && process.env.WASM3_LIB ? { inc: process.env.WASM3_INC, lib: process.env.WASM3_LIB } : null,
  wamr: process.env.WAMR_INC && process.env.WAMR_LIB ? { inc: process.env.WAMR_INC, lib: process.env.WAMR_LIB } : null,
};
// the skeletons stream the weights from the C header's array: they load runtime-flash.wasm
const runtimeWasm = resolve(repoRoot, 'build/runtime-flash.wasm');
if (haveGcc && !real.wasm3 && !real.wamr)
  console.warn('WASM3_INC/WASM3_LIB and WAMR_INC/WAMR_LIB not set: the skeletons are not linked against real interpreters');

describe.skipIf(!haveGcc || (!real.wasm3 && !real.wamr))('skeletons linked against the real interpreters given in the environment', () => {
  const realHdr = join(dir, 'real-headers');
  beforeAll(() => {
    // the documented route: convert writes model.h itself
    mkdirSync(realHdr, { recursive: true });
    const args = [
      'examples/model/model.json',
      '--calibration',
      'examples/calibration.npy',
      '-o',
      join(dir, 'example.blob'),
      '--c-header',
      join(realHdr, 'model.h'),
    ];
    const conv = run('node', [resolve(repoRoot, 'tools/convert'), ...args], repoRoot);
    expect(conv.status, conv.all).toBe(0);
    writeRuntimeHeader(realHdr, new Uint8Array(readFileSync(runtimeWasm)));
  });

  for (const interp of ['wasm3', 'wamr'] as const) {
    it.skipIf(!real[interp])(`${interp}: the CMake/Zephyr, ESP-IDF (and for wasm3 Arduino) examples pass the model's self-test`, () => {
      const { inc, lib } = real[interp]!;
      const sys = interp === 'wamr' ? ['-lm', '-lpthread', '-ldl'] : ['-lm'];
      const incs = [`-I${realHdr}`, `-I${resolve(FW, 'include')}`, `-I${inc}`];
      const a = join(dir, `real_cmake_${interp}`);
      ok(run('gcc', [...WARN, '-std=c99', '-O2', ...incs, resolve(INT, 'cmake/example/main.c'), ...GLUE(interp), lib, ...sys, '-o', a]));
      expect(ok(run(a, [])).out).toContain('self-test: PASS');
      const e = join(dir, `real_idf_${interp}`);
      const idfMain = [resolve(INT, 'esp-idf/example/main/main.c'), resolve(DOUBLES, 'esp-idf/app_main_host.c')];
      ok(run('gcc', [...WARN, '-std=gnu99', '-O2', ...incs, `-I${resolve(DOUBLES, 'esp-idf')}`, ...idfMain, ...GLUE(interp), lib, ...sys, '-o', e]));
      expect(ok(run(e, [])).out).toContain('self-test: PASS');
      if (interp === 'wasm3' && haveGxx) {
        // the Arduino Wasm3 library is wasm3's source/ with an Arduino layout
        const out = buildSketch(resolve(INT, 'arduino'), 'real', { hdr: realHdr, wasm3: () => ({ inc, link: [lib, '-lm'] }) });
        expect(out).toContain('self-test: PASS');
      }
    });
  }
});
