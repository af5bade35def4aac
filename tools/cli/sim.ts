/**
 * Thin adapter over firmware-host/node/host.ts (DeviceSim) for the convert and run commands.
 */
import { existsSync } from 'node:fs';
import { DeviceSim, DEFAULT_WASM } from '../../firmware-host/node/host.ts';
import { ERR_TEXT } from '../blob/spec.ts';
import { UserError, EXIT } from '../errors.ts';

export { DEFAULT_WASM };

export async function openSim(blob: Uint8Array, file = 'blob'): Promise<DeviceSim> {
  if (!existsSync(DEFAULT_WASM)) throw new UserError(`${DEFAULT_WASM}: runtime not built (run npm run build:wasm)`, EXIT.INTERNAL);
  const sim = await DeviceSim.load(DEFAULT_WASM);
  const rc = sim.init(blob);
  if (rc !== 0) throw new UserError(`${file}: the runtime refused the blob: ${ERR_TEXT[rc] ?? rc} (index ${sim.errorOp})`, EXIT.BAD_INPUT);
  return sim;
}
