// Where the shaped net finds iproute2's `ip` and `tc`. By default on PATH; on a machine without
// iproute2, TABTRON_IPROUTE2_DIR names a folder holding the two binaries, and (optionally) lib/ with
// the shared libraries they need that the machine lacks (libmnl, libbpf, ...). Those libraries are
// handed to the dynamic loader on its command line (`ld.so --library-path`), not through
// LD_LIBRARY_PATH: `ip netns exec NS cmd` passes its environment on to cmd (a Node rank), which
// must not load them. Pure (the filesystem check is passed in).
import { existsSync } from 'node:fs';

export type Iproute2Tool = 'ip' | 'tc';

export const IPROUTE2_DIR_ENV = 'TABTRON_IPROUTE2_DIR';

/** the dynamic loaders of x86-64 and arm64 glibc */
export const DYNAMIC_LOADERS = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1'];

/** The argv that starts `tool` (append its arguments). */
export function iproute2Argv(
  tool: Iproute2Tool,
  env: Record<string, string | undefined> = process.env,
  exists: (path: string) => boolean = existsSync,
): string[] {
  const dir = env[IPROUTE2_DIR_ENV]?.replace(/\/+$/, '');
  if (!dir) return [tool];
  const bin = `${dir}/${tool}`;
  if (!exists(bin)) throw new Error(`shaped net: ${IPROUTE2_DIR_ENV}=${dir} has no \`${tool}\` (looked for ${bin})`);
  if (!exists(`${dir}/lib`)) return [bin];
  const loader = DYNAMIC_LOADERS.find((p) => exists(p));
  if (!loader)
    throw new Error(
      `shaped net: ${IPROUTE2_DIR_ENV}=${dir} has lib/, but no dynamic loader was found to pass it to ` +
        `(looked for ${DYNAMIC_LOADERS.join(', ')})`,
    );
  return [loader, '--library-path', `${dir}/lib`, bin];
}

/** `argv` (as plan.ts writes it: ['ip' | 'tc', ...args]) with the tool resolved. */
export function resolveIproute2(
  argv: readonly string[],
  env?: Record<string, string | undefined>,
  exists?: (path: string) => boolean,
): string[] {
  const [tool, ...rest] = argv;
  if (tool !== 'ip' && tool !== 'tc') return [...argv];
  return [...iproute2Argv(tool, env, exists), ...rest];
}
