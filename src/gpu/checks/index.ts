// Every kernel check; run by the Node test (Dawn) and the Chromium spec.
import { attentionCheck } from './attention.check';
import { attentionCausalCheck } from './attention-causal.check';
import { crossEntropyCheck } from './crossentropy.check';
import { determinismCheck } from './determinism.check';
import { dropoutCheck } from './dropout.check';
import { elementwiseCheck } from './elementwise.check';
import { embeddingCheck } from './embedding.check';
import { fusedAttentionCheck } from './fused-attention.check';
import { geluCheck } from './gelu.check';
import { halfPackCheck } from './half-pack.check';
import { layernormCheck, rmsnormCheck } from './norms.check';
import type { KernelCheck } from './harness';
import { matmulCheck } from './matmul.check';
import { matmulVec4Check } from './matmul-vec4.check';
import { matmulDirectCheck } from './matmul-direct.check';
import { matmulCausalCheck } from './matmul-causal.check';
import { matmulF16Check } from './matmul-f16.check';
import { optimizerCheck } from './optimizer.check';

export const allChecks: KernelCheck[] = [
  geluCheck,
  elementwiseCheck,
  matmulCheck,
  matmulVec4Check,
  matmulDirectCheck,
  matmulCausalCheck,
  matmulF16Check,
  layernormCheck,
  rmsnormCheck,
  crossEntropyCheck,
  attentionCheck,
  attentionCausalCheck,
  fusedAttentionCheck,
  embeddingCheck,
  optimizerCheck,
  dropoutCheck,
  determinismCheck,
  halfPackCheck,
];
