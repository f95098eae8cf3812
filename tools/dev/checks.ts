// Dev harness: every kernel check (or those whose name matches argv[2]) through Dawn in Node.
// node --import tsx --import ./tools/register-raw.mjs tools/dev/checks.ts [filter]
import { allChecks } from '../../src/gpu/checks';
import { runChecks } from '../../src/gpu/checks/harness';
import { createNodeContext } from '../../src/gpu/device-node';

const ctx = await createNodeContext({ preferSwiftShader: true });
const results = await runChecks(ctx, allChecks, process.argv[2]);
let bad = 0;
for (const r of results) {
  const ok = r.relErr <= r.tol;
  if (!ok) bad++;
  if (!ok || process.env.VERBOSE)
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.name} ${r.relErr} (tol ${r.tol}) ${r.detail ?? ''}`);
}
console.log(`${results.length - bad}/${results.length} passed`);
process.exit(bad ? 1 : 0);
