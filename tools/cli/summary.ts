import { runMain } from './run-main.ts';
import { UserError, EXIT } from '../errors.ts';
export async function main(argv: string[]) {
  await runMain(async () => { throw new UserError('summary: not implemented yet ' + argv.join(' '), EXIT.INTERNAL); });
}
