/** A failure explained to the user (cli/main.ts prints its message without a stack). */
export class CliError extends Error {
  override name = 'CliError';
}
