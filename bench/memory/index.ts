// Memory-bound benchmark cases, one file per kernel module of src/gpu/kernels/; add a
// kernel's file here once its module exists (a missing module would break the bundle).
import type { MemCase } from './case';
import { crossEntropyCases } from './crossentropy';
import { elementwiseCases } from './elementwise';
import { geluCases } from './gelu';
import { normCases } from './norms';

export const MEMORY_CASES: MemCase[] = [...geluCases, ...elementwiseCases, ...normCases, ...crossEntropyCases];
