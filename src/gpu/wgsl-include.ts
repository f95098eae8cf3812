// WGSL snippets without copy-paste: a shader names a snippet of shaders/lib/ on a line of its
// own, `// #include workgroup_sum.wgsl`, and the line is replaced by the snippet's text when
// the pipeline is built (GpuContext.pipeline), in the browser and in Node alike. A snippet may
// include others; each snippet enters a shader once, however often it is named.

const INCLUDE_LINE = /^[ \t]*\/\/[ \t]*#include[ \t]+(\S+)[ \t]*$/;

/** The snippet names a source includes directly, in order. */
export function includedNames(source: string): string[] {
  const names: string[] = [];
  for (const line of source.split('\n')) {
    const m = INCLUDE_LINE.exec(line);
    if (m) names.push(m[1]);
  }
  return names;
}

/**
 * Replaces every `// #include NAME` line of `source` by the text of `lib[NAME]` (its own
 * includes resolved first). A snippet already included leaves an empty line the second
 * time. Throws on an unknown name or a cycle, naming the shader, the line and the chain.
 */
export function resolveIncludes(source: string, lib: Readonly<Record<string, string>>, shader = 'shader'): string {
  const included = new Set<string>();
  const expand = (text: string, from: string, chain: readonly string[]): string =>
    text
      .split('\n')
      .map((line, i) => {
        const m = INCLUDE_LINE.exec(line);
        if (!m) return line;
        const name = m[1];
        if (chain.includes(name)) throw new Error(`${shader}: include cycle ${[...chain, name].join(' → ')}`);
        if (!Object.hasOwn(lib, name)) {
          const known = Object.keys(lib).sort().join(', ') || 'none';
          throw new Error(`${shader}: ${from} line ${i + 1} includes unknown snippet '${name}' (known: ${known})`);
        }
        if (included.has(name)) return '';
        included.add(name);
        return `// ---- ${name}\n${expand(lib[name], name, [...chain, name])}\n// ---- end ${name}`;
      })
      .join('\n');
  return expand(source, shader, []);
}
