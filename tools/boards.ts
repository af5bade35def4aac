/**
 * Board profiles and interpreter footprints used by `verify --board`.
 *
 * Every figure has a `source` (see docs/BOARDS.md): chip/board datasheets for RAM and flash,
 * firmware-host/measure and cross-compiled code sizes for the interpreter footprints. "usable"
 * figures are conservative estimates of what an application can still allocate after the
 * SDK/RTOS has started (no radio stack), not datasheet numbers;
 * use --ram/--flash for your own measured budget.
 *
 * Linear memory is counted in 64 KiB wasm pages because both interpreters allocate it that
 * way for a module that declares a memory and grows it with memory.grow (ours does):
 *   - WASM3 reallocates its memory block to `pages * 65536` bytes (plus a small header) on every
 *     memory.grow; only `runtime->memoryLimit` can truncate it below a page.
 *   - WAMR allocates `pages * 65536` for the memory instance; on memory.grow it reallocates
 *     the block, which in pool mode can need the old and the new block at once (peak).
 * A 64 KiB page must be ONE contiguous heap block: boards whose internal RAM is split into
 * regions (ESP32, STM32F4 with CCM) carry `maxBlock`, the largest block malloc can return.
 */
import { UserError, EXIT } from './errors.ts';

export const WASM_PAGE = 65536;

export interface Board {
  name: string;
  aliases?: string[];
  chip: string;
  core: string;
  mhz: number;
  /** SRAM on the chip (datasheet). */
  ramTotal: number;
  /** What an application can expect to allocate (estimate, see note). */
  ramUsable: number;
  /** Largest single heap block (linear memory is one block); undefined = ramUsable. */
  maxBlock?: number;
  /** Optional external RAM (PSRAM) when the common module has it. */
  psram?: number;
  /** Flash on the common module/board. */
  flashTotal: number;
  /** Flash available for the application image (partition / minus bootloader). */
  flashUsable: number;
  /** Native stack the interpreter needs on this core (no tail-call optimisation on Xtensa/M0). */
  nativeStack: number;
  note: string;
  source: string;
}

export interface InterpreterProfile {
  name: 'wasm3' | 'wamr' | 'wamr-classic';
  /** Interpreter code in flash (bytes). */
  codeFlash: number;
  /** The project's C glue for this interpreter in flash (firmware-host/src, bytes). */
  glueFlash: number;
  /** Interpreter's own RAM (environment, runtime structs, allocator overhead) before any module. */
  baseRam: number;
  /** Wasm value/operand stack we configure in the C glue (KW_WASM3_STACK / KW_WAMR_STACK). */
  valueStack: number;
  /** RAM for the loaded module besides linear memory, as a multiple of the .wasm size
   *  (wasm3: compiled meta-machine code pages; WAMR: writable copy of the .wasm + fast-interp
   *  pre-compiled code). */
  moduleRamFactor: number;
  /**
   * For an interpreter that compiles functions lazily (wasm3): RAM besides linear memory and the
   * value stack = base + perByte x the byte size of the function bodies it compiles (those that
   * init + self-test + one inference run, and the exports) + perWasmByte x the runtime .wasm (the
   * parsed module: a record per function, types, exports). Used when that set is known (verify
   * counts it); otherwise baseRam + moduleRamFactor x .wasm.
   */
  compiledCode?: { base: number; perByte: number; perWasmByte: number };
  /** Extra RAM during memory.grow, as a fraction of the linear memory before the grow. */
  growPeakFactor: number;
  /**
   * The glue can give the module less than a 64 KiB page when it needs less (wasm3: the
   * runtime's memoryLimit); otherwise linear memory is whole pages.
   */
  capsLinearMemory: boolean;
  note: string;
  source: string;
}

const KiB = 1024;
const MiB = 1024 * 1024;

/**
 * Interpreter profiles for 32-bit boards (docs/BOARDS.md, "Measured on 32-bit builds"). Every
 * figure says where it comes from:
 *   MEASURED 2026-12-04 with firmware-host/measure on i386 builds (gcc 12.2 -m32, run under
 *   qemu-i386) of WASM3 0.5.0 (-O2, with the macros wasm3 itself sets for ESP32: code pages of
 *   1 KiB, function stack height 128, constant table 64, short error messages) and WAMR 2.4.5
 *   (-O3, target X86_32), every example model in both weight modes with the full and with each
 *   model's own runtime, outputs equal to Node's;
 *   MEASURED code size: the interpreter compiled with Debian's cross compilers (-Os,
 *   -ffunction-sections, linked with --gc-sections behind the glue): WASM3 for Cortex-M4 and
 *   RV32IMC, WAMR for ARM Thumb-2 (an armhf Linux build: WAMR needs a platform layer);
 *   ESTIMATE: what was not measured, with the reason.
 * RAM besides linear memory and the value stack = baseRam + moduleRamFactor x runtime .wasm: a
 * line above every measured point (interpreter structures, the parsed module and, for WASM3, the
 * functions it compiled lazily while running; for WAMR, the loaded module). For WASM3, when verify
 * has counted the functions a blob runs, compiledCode gives a closer bound (see there).
 */
export const INTERPRETERS: Record<'wasm3' | 'wamr' | 'wamr-classic', InterpreterProfile> = {
  wasm3: {
    name: 'wasm3',
    // MEASURED: linked with --gc-sections, ESP32 macros, -Os: 64,529 B on RV32IMC, 56,301 B on Cortex-M4
    // (the larger is counted; Xtensa has no Debian toolchain: the wasm3 README says about 64 KiB)
    codeFlash: 64_529,
    // MEASURED: kw_common.c + kw_wasm3.c linked with --gc-sections, -Os: 7,949 B RV32IMC, 6,951 B Cortex-M4
    glueFlash: 7_949,
    // MEASURED (i386, ESP32 macros): heap after running minus linear memory and value stack is
    // 34.1-79.4 KB over the 32 runs (bench/wasm3-ram.ts; runtime .wasm 7.4-41.9 KB); 52 KiB + 0.8 x
    // .wasm lies above all of them (0.5 KB above cnn's own flash runtime, up to 27 KB above the
    // autoencoder on the full runtime, which compiles fewer functions)
    baseRam: 52 * KiB,
    moduleRamFactor: 0.8,
    // MEASURED 2026-12-04, same i386 build, 32 runs (bench/wasm3-ram.ts fits them: 4 models x
    // 2 weight modes x full/own runtime, with the full runtime at 26.7 KB and at 41.9 KB): wasm3
    // compiles a function when it first runs or when the glue looks it up, so its RAM follows the
    // bodies of the functions init + self-test + one inference run (plus the exports): 10,496 B +
    // 3.71 x those bodies + 0.31 x the runtime .wasm (the parsed module) lies 0.2-5.0 KB above every
    // run. ARM Thumb-2 (-Os) heaps equal the i386 ones byte for byte.
    compiledCode: { base: 10_496, perByte: 3.71, perWasmByte: 0.31 },
    // the glue default (KW_CONFIG_DEFAULT); MEASURED minimum 1,680 B (streamed), 1,344 B (copy-in)
    valueStack: 8 * KiB,
    growPeakFactor: 0,
    capsLinearMemory: true,
    note: 'code 63.0 KiB (RV32IMC) / 55.0 KiB (Cortex-M4), measured; glue 7.8 KiB. RAM: 10.25 KiB + 3.71 x the function bodies the blob runs (wasm3 compiles lazily) + 0.31 x the runtime .wasm, or without that count 52 KiB + 0.8 x the runtime .wasm; both above the measured heap of every example (i386 build with the ESP32 macros: code pages of 1 KiB, function stack height 128; with a stack height of 64, the default for Arduino boards, the runtime does not compile). Value stack: the glue default 8 KiB; measured minimum 1,680 B. Linear memory under a page: the glue sets the runtime memoryLimit (measured: exactly kw_memory_used bytes).',
    source: 'firmware-host/measure on i386 and cross-compiled code size, docs/BOARDS.md (measured 2026-12-04)',
  },
  wamr: {
    name: 'wamr',
    // MEASURED on Thumb-2: armhf build (-mcpu=cortex-a7 -mthumb -Os; SIMD, ref types, bulk memory,
    // AOT, JIT, WASI, libc-builtin off) linked with --gc-sections: 58,168 B + 1,229 B platform
    // layer (Linux's; a board's differs). Cortex-M4 uses the same instruction set but was not
    // compiled for; RV32 was not measured (WAMR needs a platform layer for the target).
    codeFlash: 59_397,
    // MEASURED: kw_common.c + kw_wamr.c objects, -Os: 10,770 B RV32IMC, 8,560 B Cortex-M4 (not linked)
    glueFlash: 10_770,
    // MEASURED (i386): heap minus value stack 29.6-94.0 KB over the 16 runs; 7 KiB + 3.27 x .wasm
    // lies above all of them (the fast interpreter keeps a writable copy and pre-compiled code)
    baseRam: 7 * KiB,
    moduleRamFactor: 3.27,
    // the glue default; MEASURED minimum 1,600 B (streamed), 1,440 B (copy-in)
    valueStack: 8 * KiB,
    growPeakFactor: 1,
    capsLinearMemory: false,
    note: 'fast interpreter. Code 58.0 KiB: measured on Thumb-2 (armhf build, MVP features only; the WAMR README says 63 KB for Cortex-M4F). RAM: 7 KiB + 3.27 x the runtime .wasm above the measured heap of every example (i386; a writable copy of the module plus pre-compiled code). Whole 64 KiB pages (2.4.5 has no smaller page). memory.grow reallocates (old + new at once in pool mode).',
    source: 'firmware-host/measure on i386 and code size on Thumb-2, docs/BOARDS.md (measured 2026-12-04)',
  },
  'wamr-classic': {
    name: 'wamr-classic',
    // MEASURED on Thumb-2 as for the fast interpreter: 53,324 B + 1,229 B platform layer
    codeFlash: 54_553,
    // MEASURED: as for the fast interpreter (the same glue)
    glueFlash: 10_770,
    // MEASURED (i386): heap minus value stack 8.1-15.2 KB over the 16 runs; 7 KiB + 0.32 x .wasm
    // lies above all of them
    baseRam: 7 * KiB,
    moduleRamFactor: 0.32,
    // the glue default; MEASURED minimum 2,144 B (streamed), 2,128 B (copy-in)
    valueStack: 8 * KiB,
    growPeakFactor: 1,
    capsLinearMemory: false,
    note: 'classic interpreter. Code 53.3 KiB: measured on Thumb-2 (armhf build, MVP features only; the WAMR README says 60 KB). RAM: 7 KiB + 0.32 x the runtime .wasm above the measured heap of every example (i386). About 2.3x slower than the fast interpreter. Whole 64 KiB pages.',
    source: 'firmware-host/measure on i386 and code size on Thumb-2, docs/BOARDS.md (measured 2026-12-04)',
  },
};

export const BOARDS: Board[] = [
  {
    name: 'esp32',
    aliases: ['esp32-wroom-32', 'esp32-devkitc'],
    chip: 'ESP32-D0WD (ESP32-WROOM-32 module)',
    core: 'Xtensa LX6 dual-core',
    mhz: 240,
    ramTotal: 520 * KiB,
    ramUsable: 280 * KiB,
    maxBlock: 110 * KiB,
    flashTotal: 4 * MiB,
    flashUsable: 1 * MiB,
    nativeStack: 12 * KiB,
    note: 'DRAM is split into regions; the largest malloc block is ~110 KiB, so at most ONE 64 KiB page of linear memory fits internally. Use a WROVER module (4 MiB PSRAM, CONFIG_SPIRAM_USE_MALLOC) for more. Default "factory app" partition is 1 MiB. Xtensa lacks TCO: wasm3 needed 10.6 KB native stack for fib(24).',
    source: 'ESP32 datasheet (520 KB SRAM); ESP-IDF partition table default; research §5.1 (fib on ESP32)',
  },
  {
    name: 'esp32-wrover',
    chip: 'ESP32-D0WD + 4 MiB PSRAM (ESP32-WROVER-E)',
    core: 'Xtensa LX6 dual-core',
    mhz: 240,
    ramTotal: 520 * KiB,
    ramUsable: 280 * KiB + 4 * MiB - 64 * KiB,
    psram: 4 * MiB,
    flashTotal: 4 * MiB,
    flashUsable: 1 * MiB,
    nativeStack: 12 * KiB,
    note: 'linear memory allocated in PSRAM (slower than internal RAM); 8 MiB parts map only 4 MiB without himem.',
    source: 'ESP32-WROVER-E datasheet; ESP-IDF external RAM docs',
  },
  {
    name: 'esp32-s3',
    aliases: ['esp32s3'],
    chip: 'ESP32-S3 (ESP32-S3-WROOM-1-N8, no PSRAM)',
    core: 'Xtensa LX7 dual-core',
    mhz: 240,
    ramTotal: 512 * KiB,
    ramUsable: 300 * KiB,
    maxBlock: 256 * KiB,
    flashTotal: 8 * MiB,
    flashUsable: 3 * MiB,
    nativeStack: 12 * KiB,
    note: 'N8R2/N8R8/N16R8 variants add 2-8 MiB octal PSRAM: use esp32-s3-psram. App partition assumed 3 MiB of the 8 MiB flash.',
    source: 'ESP32-S3 datasheet (512 KB SRAM); ESP32-S3-WROOM-1 datasheet',
  },
  {
    name: 'esp32-s3-psram',
    aliases: ['esp32-s3-n8r8'],
    chip: 'ESP32-S3 + 8 MiB octal PSRAM (ESP32-S3-WROOM-1-N8R8)',
    core: 'Xtensa LX7 dual-core',
    mhz: 240,
    ramTotal: 512 * KiB,
    ramUsable: 300 * KiB + 8 * MiB - 64 * KiB,
    psram: 8 * MiB,
    flashTotal: 8 * MiB,
    flashUsable: 3 * MiB,
    nativeStack: 12 * KiB,
    note: 'linear memory in PSRAM (CONFIG_SPIRAM_USE_MALLOC); keep the interpreter and its stacks in internal RAM.',
    source: 'ESP32-S3-WROOM-1 datasheet',
  },
  {
    name: 'esp32-c3',
    aliases: ['esp32c3'],
    chip: 'ESP32-C3 (ESP32-C3-MINI-1, 4 MiB flash)',
    core: 'RISC-V RV32IMC single-core',
    mhz: 160,
    ramTotal: 400 * KiB,
    ramUsable: 250 * KiB,
    maxBlock: 200 * KiB,
    flashTotal: 4 * MiB,
    flashUsable: 1 * MiB,
    nativeStack: 8 * KiB,
    note: '16 KB of the 400 KB SRAM is cache. No PSRAM support.',
    source: 'ESP32-C3 datasheet (400 KB SRAM); ESP32-C3-MINI-1 datasheet',
  },
  {
    name: 'nrf52840',
    aliases: ['nrf52840-dk', 'arduino-nano-33-ble'],
    chip: 'nRF52840',
    core: 'Cortex-M4F',
    mhz: 64,
    ramTotal: 256 * KiB,
    ramUsable: 200 * KiB,
    flashTotal: 1 * MiB,
    flashUsable: 1 * MiB - 64 * KiB,
    nativeStack: 4 * KiB,
    note: 'Zephyr/nRF Connect SDK without BLE; a SoftDevice/BLE stack takes ~20-40 KiB RAM and ~150 KiB flash more.',
    source: 'nRF52840 product specification (256 KB RAM, 1 MB flash)',
  },
  {
    name: 'stm32f411',
    aliases: ['stm32f4', 'nucleo-f411re', 'blackpill-f411'],
    chip: 'STM32F411RE / STM32F411CE',
    core: 'Cortex-M4F',
    mhz: 100,
    ramTotal: 128 * KiB,
    ramUsable: 112 * KiB,
    flashTotal: 512 * KiB,
    flashUsable: 496 * KiB,
    nativeStack: 4 * KiB,
    note: '`stm32f4` means this (the smallest common F4). One 64 KiB page plus the interpreter is about the limit.',
    source: 'STM32F411xC/E datasheet (128 KB SRAM, 512 KB flash)',
  },
  {
    name: 'stm32f446',
    aliases: ['nucleo-f446re'],
    chip: 'STM32F446RE',
    core: 'Cortex-M4F',
    mhz: 180,
    ramTotal: 128 * KiB,
    ramUsable: 112 * KiB,
    flashTotal: 512 * KiB,
    flashUsable: 496 * KiB,
    nativeStack: 4 * KiB,
    note: 'SRAM1 112 KB + SRAM2 16 KB (contiguous).',
    source: 'STM32F446xC/E datasheet (128 KB SRAM, 512 KB flash)',
  },
  {
    name: 'stm32f407',
    aliases: ['stm32f4-discovery'],
    chip: 'STM32F407VG',
    core: 'Cortex-M4F',
    mhz: 168,
    ramTotal: 192 * KiB,
    ramUsable: 112 * KiB + 16 * KiB,
    maxBlock: 128 * KiB - 8 * KiB,
    flashTotal: 1 * MiB,
    flashUsable: 1 * MiB - 16 * KiB,
    nativeStack: 4 * KiB,
    note: '64 KB of the 192 KB is CCM (not DMA-able, separate region): usable heap counted as the 128 KB main SRAM; CCM suits stacks.',
    source: 'STM32F405/407 datasheet (192 KB SRAM incl. 64 KB CCM, 1 MB flash)',
  },
  {
    name: 'stm32h743',
    aliases: ['nucleo-h743zi'],
    chip: 'STM32H743ZI',
    core: 'Cortex-M7',
    mhz: 480,
    ramTotal: 1024 * KiB,
    ramUsable: 512 * KiB,
    maxBlock: 512 * KiB,
    flashTotal: 2 * MiB,
    flashUsable: 2 * MiB - 128 * KiB,
    nativeStack: 4 * KiB,
    note: 'RAM split into AXI SRAM 512 KB, SRAM1-3, DTCM 128 KB; the largest block is AXI SRAM.',
    source: 'STM32H743xI datasheet (1 MB RAM, 2 MB flash)',
  },
  {
    name: 'rp2040',
    aliases: ['pico', 'raspberry-pi-pico'],
    chip: 'RP2040 (Raspberry Pi Pico, 2 MiB QSPI flash)',
    core: 'Cortex-M0+ dual-core',
    mhz: 133,
    ramTotal: 264 * KiB,
    ramUsable: 240 * KiB,
    flashTotal: 2 * MiB,
    flashUsable: 2 * MiB - 256 * KiB,
    nativeStack: 8 * KiB,
    note: 'M0+ has no TCO-friendly ABI for wasm3 (larger native stack). Flash is external XIP.',
    source: 'RP2040 datasheet (264 KB SRAM); Raspberry Pi Pico datasheet (2 MB flash)',
  },
  {
    name: 'rp2350',
    aliases: ['pico2', 'raspberry-pi-pico-2'],
    chip: 'RP2350 (Raspberry Pi Pico 2, 4 MiB flash)',
    core: 'Cortex-M33 dual-core',
    mhz: 150,
    ramTotal: 520 * KiB,
    ramUsable: 480 * KiB,
    flashTotal: 4 * MiB,
    flashUsable: 4 * MiB - 256 * KiB,
    nativeStack: 4 * KiB,
    note: '',
    source: 'RP2350 datasheet (520 KB SRAM); Raspberry Pi Pico 2 datasheet (4 MB flash)',
  },
];

function boardNames(): string[] {
  return BOARDS.map((b) => b.name);
}

/** Looks a board up by name or alias (case-insensitive, '_' = '-'). */
export function findBoard(name: string): Board {
  const key = name.toLowerCase().replace(/_/g, '-');
  const b = BOARDS.find((x) => x.name === key || (x.aliases ?? []).includes(key));
  if (!b) throw new UserError(`--board ${name}: unknown board; known: ${boardNames().join(', ')} (or give --ram and --flash)`, EXIT.USAGE);
  return b;
}

export function getInterpreter(name: string): InterpreterProfile {
  const key = name.toLowerCase();
  if (key !== 'wasm3' && key !== 'wamr' && key !== 'wamr-classic')
    throw new UserError(`--interpreter ${name}: must be wasm3, wamr (fast interpreter) or wamr-classic`, EXIT.USAGE);
  return INTERPRETERS[key];
}

export interface MemoryInputs {
  blobBytes: number;
  runtimeWasmBytes: number;
  /** Linear memory pages the runtime holds after init (measured, or estimated). */
  linearPages: number;
  /** Pages before the last grow (for WAMR's realloc peak); defaults to linearPages - 1. */
  pagesBeforeLastGrow?: number;
  /** Bytes of linear memory the runtime uses (kw_memory_used): what a capping interpreter allocates when under a page. */
  linearBytes?: number;
  /** The weights stay in flash (streamed): the blob is not in RAM. */
  streamed?: boolean;
  /** Byte size of the runtime's function bodies that the blob's init + self-test + one inference run (and the exports); undefined = unknown. */
  compiledBodyBytes?: number;
}

export interface MemoryBudget {
  flash: { total: number; parts: Record<string, number> };
  ram: { total: number; parts: Record<string, number>; largestBlock: number };
  /** How the interpreter's module RAM was counted: from the compiled functions, or from the .wasm size. */
  moduleModel: 'compiled functions' | 'runtime size';
}

/** The interpreter's base and module RAM: from the functions it compiles when known, else from the .wasm size. */
function moduleRam(m: MemoryInputs, interp: InterpreterProfile): { parts: Record<string, number>; model: MemoryBudget['moduleModel'] } {
  const cc = interp.compiledCode;
  if (cc && m.compiledBodyBytes !== undefined)
    return {
      parts: {
        [`${interp.name} base`]: cc.base,
        [`${interp.name} compiled functions (${cc.perByte} x ${m.compiledBodyBytes} B of function bodies run)`]: Math.ceil(m.compiledBodyBytes * cc.perByte),
        [`${interp.name} parsed module (${cc.perWasmByte} x .wasm)`]: Math.ceil(m.runtimeWasmBytes * cc.perWasmByte),
      },
      model: 'compiled functions',
    };
  return {
    parts: { [`${interp.name} base`]: interp.baseRam, [`${interp.name} module code`]: Math.ceil(m.runtimeWasmBytes * interp.moduleRamFactor) },
    model: 'runtime size',
  };
}

/** Flash and RAM the firmware needs for a blob under one interpreter on one board. */
export function memoryBudget(m: MemoryInputs, interp: InterpreterProfile, board?: Board): MemoryBudget {
  const flashParts = {
    [m.streamed ? 'blob (weights read in place)' : 'blob']: m.blobBytes,
    'runtime .wasm': m.runtimeWasmBytes,
    [`${interp.name} code`]: interp.codeFlash,
    'kerawasm glue': interp.glueFlash,
  };
  const capped = interp.capsLinearMemory && m.linearBytes !== undefined && m.linearBytes < WASM_PAGE;
  const linear = capped ? Math.ceil(m.linearBytes! / 16) * 16 : m.linearPages * WASM_PAGE;
  const before = m.pagesBeforeLastGrow ?? Math.max(0, m.linearPages - 1);
  const mod = moduleRam(m, interp);
  const ramParts: Record<string, number> = {
    [capped ? `linear memory (capped at ${linear} B, under a page)` : `linear memory (${m.linearPages} x 64 KiB pages)`]: linear,
    ...mod.parts,
    'wasm value stack': interp.valueStack,
    'native stack': board?.nativeStack ?? 4096,
  };
  const peak = Math.ceil(before * WASM_PAGE * interp.growPeakFactor);
  if (peak > 0) ramParts['memory.grow realloc peak'] = peak;
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  return {
    flash: { total: sum(flashParts), parts: flashParts },
    ram: { total: sum(ramParts), parts: ramParts, largestBlock: linear },
    moduleModel: mod.model,
  };
}

// ---------------------------------------------------------------------------------------
// latency (ESTIMATES)

type CoreFamily = 'xtensa-lx6' | 'xtensa-lx7' | 'cortex-m0plus' | 'cortex-m4' | 'cortex-m33' | 'cortex-m7' | 'riscv-rv32';

/**
 * Cycles per executed wasm instruction on each core: native instructions per executed wasm
 * instruction, measured on x86-64 with callgrind running this project's runtime (WASM3 0.5.0
 * 5.7-6.7, taken as 6.2; WAMR 2.4.5 fast interpreter as WASM3, classic 13-15, taken as 14;
 * ../shared/README.md), times an ASSUMED cycles-per-native-instruction of each core for
 * interpreter code (dispatch branches and loads; code in flash behind a cache or accelerator):
 * LX6 1.5, LX7 1.3, M0+ 1.8 (no cache, 2-cycle loads), M4 1.4, M33 1.3, M7 0.9 (dual issue),
 * RV32IMC 1.5. Not measured on a device: verify labels every latency an estimate.
 */
const NATIVE_PER_WASM: Record<'wasm3' | 'wamr' | 'wamr-classic', number> = { wasm3: 6.2, wamr: 6.2, 'wamr-classic': 14 };
const CPI: Record<CoreFamily, number> = {
  'xtensa-lx6': 1.5,
  'xtensa-lx7': 1.3,
  'cortex-m0plus': 1.8,
  'cortex-m4': 1.4,
  'cortex-m33': 1.3,
  'cortex-m7': 0.9,
  'riscv-rv32': 1.5,
};
export const LATENCY_SOURCE =
  'estimate: executed wasm instructions x native instructions per wasm instruction (callgrind on x86-64: WASM3/WAMR fast 6.2, WAMR classic 14) x assumed cycles per native instruction of the core (LX6 1.5, LX7 1.3, M0+ 1.8, M4 1.4, M33 1.3, M7 0.9, RV32 1.5) / clock';

function coreFamily(b: Board): CoreFamily {
  const c = b.core;
  if (/LX6/.test(c)) return 'xtensa-lx6';
  if (/LX7/.test(c)) return 'xtensa-lx7';
  if (/M0\+/.test(c)) return 'cortex-m0plus';
  if (/M33/.test(c)) return 'cortex-m33';
  if (/M7/.test(c)) return 'cortex-m7';
  if (/M4/.test(c)) return 'cortex-m4';
  return 'riscv-rv32';
}

/** Estimated milliseconds per inference of `executed` wasm instructions on `b` under `interp`. */
export function estimateLatencyMs(executed: number, b: Board, interp: 'wasm3' | 'wamr' | 'wamr-classic'): number {
  const cycles = executed * NATIVE_PER_WASM[interp] * CPI[coreFamily(b)];
  return cycles / (b.mhz * 1000);
}
