import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shaderLib } from './shader-lib';
import { includedNames, resolveIncludes } from './wgsl-include';

const lib = {
  'a.wgsl': 'fn a() {}',
  'b.wgsl': '// #include a.wgsl\nfn b() { a(); }',
  'loop1.wgsl': '// #include loop2.wgsl',
  'loop2.wgsl': '  //  #include loop1.wgsl  ',
};

describe('resolveIncludes', () => {
  it('replaces an include line by the snippet and leaves other lines as they are', () => {
    const out = resolveIncludes('x\n// #include a.wgsl\ny', lib);
    expect(out.split('\n').filter((l) => !l.startsWith('// ----'))).toEqual(['x', 'fn a() {}', 'y']);
  });

  it('resolves nested includes and puts each snippet in once', () => {
    const out = resolveIncludes('// #include b.wgsl\n// #include a.wgsl\n// #include b.wgsl', lib);
    expect(out.match(/fn a\(\)/g)).toHaveLength(1);
    expect(out.match(/fn b\(\)/g)).toHaveLength(1);
    expect(out.indexOf('fn a()')).toBeLessThan(out.indexOf('fn b()'));
  });

  it('names the shader, the line and the known snippets for an unknown include', () => {
    expect(() => resolveIncludes('x\n// #include nope.wgsl', lib, 'my_kernel')).toThrow(
      /my_kernel: my_kernel line 2 includes unknown snippet 'nope\.wgsl' \(known: a\.wgsl, b\.wgsl/,
    );
  });

  it('reports a cycle with its chain', () => {
    expect(() => resolveIncludes('// #include loop1.wgsl', lib, 's')).toThrow(
      's: include cycle loop1.wgsl → loop2.wgsl → loop1.wgsl',
    );
  });

  it('leaves a source without includes unchanged', () => {
    const src = 'fn main() {}\n// include a.wgsl (not a directive)\n';
    expect(resolveIncludes(src, lib)).toBe(src);
  });
});

describe('shaders/ and shaders/lib/', () => {
  const dir = new URL('../../shaders/', import.meta.url);
  const shaders = readdirSync(dir).filter((f) => f.endsWith('.wgsl'));
  const snippets = readdirSync(new URL('lib/', dir)).filter((f) => f.endsWith('.wgsl'));

  it('registers every snippet of shaders/lib/ in shaderLib', () => {
    expect(Object.keys(shaderLib).sort()).toEqual([...snippets].sort());
  });

  it('every shader resolves, and every snippet is used by some shader or snippet', () => {
    const used = new Set<string>();
    for (const f of shaders) {
      const src = readFileSync(new URL(f, dir), 'utf8');
      expect(() => resolveIncludes(src, shaderLib, f)).not.toThrow();
      for (const name of includedNames(src)) used.add(name);
    }
    for (const src of Object.values(shaderLib)) for (const name of includedNames(src)) used.add(name);
    expect([...used].sort()).toEqual([...snippets].sort());
  });
});
