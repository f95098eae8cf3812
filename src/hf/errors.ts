// Errors meant for the user (the CLI prints their message alone): a model, config or file
// that cannot be exported, imported or read, with the key, tensor or file at fault named.
export class HfError extends Error {
  override name = 'HfError';
}
