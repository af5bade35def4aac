/**
 * Thin adapter over firmware-host/node/host.ts (DeviceSim) for the convert and run commands.
 */
import { existsSync } from 'node:fs';
import { DeviceSim, DEFAULT_WASM, FLASH_WASM, type WeightsMode } from '../../firmware-host/node/host.ts';
import { ERR_TEXT, HEADER } from '../blob/spec.ts';
import { UserError, EXIT } from '../errors.ts';

export { DEFAULT_WASM };

/** The mode a blob was built for: flash when its header names a staging size. */
export function blobWeights(blob: Uint8Array): WeightsMode {
  if (blob.length < HEADER.stagingSize + 4) return 'ram';
  return new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(HEADER.stagingSize, true) > 0 ? 'flash' : 'ram';
}

/** The device simulation with `blob` initialised, in `weights` mode (default: the blob's own). */
export async function openSim(blob: Uint8Array, file = 'blob', weights: WeightsMode = blobWeights(blob), runtime?: Uint8Array): Promise<DeviceSim> {
  const wasm = weights === 'flash' ? FLASH_WASM : DEFAULT_WASM;
  if (!runtime && !existsSync(wasm)) throw new UserError(`${wasm}: runtime not built (run npm run build:wasm)`, EXIT.INTERNAL);
  const sim = await DeviceSim.load(runtime ?? wasm, { weights });
  const rc = sim.init(blob);
  if (rc !== 0) throw new UserError(`${file}: the runtime refused the blob: ${ERR_TEXT[rc] ?? rc} (index ${sim.errorOp})`, EXIT.BAD_INPUT);
  return sim;
}
