// Every kernel check; run by the Node test (Dawn) and the Chromium spec.
import { geluCheck } from './gelu.check';
import type { KernelCheck } from './harness';

export const allChecks: KernelCheck[] = [geluCheck];
