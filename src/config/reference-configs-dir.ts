// For tests: the real GPT-NeoX configs of shared/reference/gpt-neox-configs. shared/ sits beside the
// checkout; a clone made elsewhere (a temporary directory, as CI's checklist does) finds it beside the
// checkout it was cloned from (a local `origin`). Where neither has it, the first path is returned, so
// the tests that read it fail naming where they looked.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');
const BESIDE = join('..', 'shared', 'reference', 'gpt-neox-configs');

function originCheckout(): string | null {
  try {
    const url = execFileSync('git', ['config', '--get', 'remote.origin.url'], { cwd: REPO, encoding: 'utf8' }).trim();
    return isAbsolute(url) ? url : null;
  } catch {
    return null; // not a git checkout, or no origin
  }
}

export function referenceConfigsDir(): string {
  const origin = originCheckout();
  const candidates = [join(REPO, BESIDE), ...(origin ? [join(origin, BESIDE)] : [])];
  return candidates.find((d) => existsSync(d)) ?? candidates[0];
}
