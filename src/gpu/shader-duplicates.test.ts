// No block of WGSL code is written twice across shaders/ (shared blocks live in shaders/lib/ and
// are included). A block is RUN consecutive code lines that are the same after folding white
// space; comments, blank lines, lone braces and the declarations every kernel has (bindings,
// uniform struct, overrides, the entry point's signature) are left out, as they name a
// kernel's interface rather than repeat its logic.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const RUN = 6;
const INTERFACE = /^(@group\(|struct Params|override |alias |@compute|fn main\()/;

interface CodeLine {
  text: string;
  line: number;
}

function codeLines(source: string): CodeLine[] {
  return source
    .split('\n')
    .map((raw, i) => ({
      text: raw
        .replace(/\/\/.*$/, '')
        .replace(/\s+/g, ' ')
        .trim(),
      line: i + 1,
    }))
    .filter(({ text }) => text !== '' && !/^[{}();]+$/.test(text) && !INTERFACE.test(text));
}

/** Places where RUN code lines of one file stand again in another: "a.wgsl:3-9 ~ b.wgsl:10-16". */
function repeatedBlocks(files: Record<string, string>, run = RUN): string[] {
  const seen = new Map<string, string>();
  const found: string[] = [];
  for (const [name, source] of Object.entries(files)) {
    const lines = codeLines(source);
    for (let i = 0; i + run <= lines.length; i++) {
      const key = lines
        .slice(i, i + run)
        .map((l) => l.text)
        .join('\n');
      const here = `${name}:${lines[i].line}-${lines[i + run - 1].line}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, here);
      else if (!first.startsWith(`${name}:`)) found.push(`${first} ~ ${here}`);
    }
  }
  return found;
}

describe('repeatedBlocks', () => {
  const block = ['let a = x[i];', 'let b = a * 2.0;', 'y[i] = b;', 'z[i] = a;', 'w[i] = b;', 'v[i] = a + b;'];
  it('finds a block of six code lines written in two files, whatever the comments and spacing', () => {
    const other = block.map((l) => `   ${l.replace(' = ', '  =  ')}   // note`);
    expect(repeatedBlocks({ 'a.wgsl': block.join('\n'), 'b.wgsl': `// head\n\n${other.join('\n\n')}` })).toEqual([
      'a.wgsl:1-6 ~ b.wgsl:3-13',
    ]);
  });
  it('lets five shared lines, and interface declarations, pass', () => {
    const decls = ['@group(0) @binding(0) var<storage, read> x: array<f32>;', 'override WG: u32 = 256u;'];
    const a = [...decls, ...block.slice(0, 5), 'q = 1;'].join('\n');
    const b = [...decls, ...block.slice(0, 5), 'q = 2;'].join('\n');
    expect(repeatedBlocks({ 'a.wgsl': a, 'b.wgsl': b })).toEqual([]);
  });
});

describe('shaders/', () => {
  it(`repeats no block of ${RUN} code lines across files`, () => {
    const dir = new URL('../../shaders/', import.meta.url);
    const files: Record<string, string> = {};
    for (const sub of ['', 'lib/']) {
      for (const f of readdirSync(new URL(sub, dir)).filter((n) => n.endsWith('.wgsl'))) {
        files[`${sub}${f}`] = readFileSync(new URL(`${sub}${f}`, dir), 'utf8');
      }
    }
    expect(Object.keys(files).length).toBeGreaterThan(20);
    expect(repeatedBlocks(files)).toEqual([]);
  });
});
