// The README's Layout section names every top-level folder and every folder of src/ (tracked files).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function trackedFolders(): { top: string[]; src: string[] } {
  const r = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  const dirs = r.stdout
    .split('\0')
    .filter(Boolean)
    .map((f) => f.split('/'));
  const top = new Set(dirs.filter((p) => p.length > 1).map((p) => `${p[0]}/`));
  const src = new Set(dirs.filter((p) => p[0] === 'src' && p.length > 2).map((p) => `src/${p[1]}/`));
  return { top: [...top].sort(), src: [...src].sort() };
}

describe('README Layout', () => {
  it('lists every top-level folder and every src/ folder', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const layout = /## Layout\n+```\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(layout, 'README.md has a ## Layout section with a code block').toBeDefined();
    // the folders a line starts with ("cli/ bin/ ..."), and the top-level folder of each
    const named = new Set<string>();
    for (const line of layout!.split('\n')) {
      for (const token of line.split(/\s+/)) {
        if (!/^[\w.-]+(\/[\w.-]+)*\/$/.test(token)) break;
        named.add(token).add(`${token.split('/')[0]}/`);
      }
    }
    const { top, src } = trackedFolders();
    expect(top.length).toBeGreaterThan(5);
    expect(src.length).toBeGreaterThan(5);
    expect([...top, ...src].filter((d) => !named.has(d))).toEqual([]);
  });
});
