import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The clouds' published API descriptions: `shared/specs` beside the checkout (as CI lays it
 * out), or JIT_SPECS_DIR.
 */
export const SPECS_DIR: string =
  process.env.JIT_SPECS_DIR ||
  ([resolve(__dirname, '../../../shared/specs'), '/work/shared/specs'].find((d) => existsSync(d)) ?? resolve(__dirname, '../../../shared/specs'));
