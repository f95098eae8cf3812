// tabtron's command line. Each subcommand lives in cli/<name>.ts and exports a function that
// returns its commander Command; this file only registers them and reports their errors.

import { Command } from 'commander';

// Each subcommand's module, loaded only when it runs: `tabtron export-hf` does not compile the trainer.
// Help, an unknown name or none loads them all, in the order `--help` lists them.
const commands: [string, () => Promise<Command>][] = [
  ['plan', async () => (await import('./plan')).planCommand()],
  ['train', async () => (await import('./train')).trainCliCommand()],
  ['validate', async () => (await import('./train')).validateCliCommand()],
  ['coordinator', async () => (await import('./coordinator')).coordinatorCommand()],
  ['checkpoint', async () => (await import('./checkpoint')).checkpointCommand()],
  ['export-hf', async () => (await import('./export-hf')).exportHfCliCommand()],
  ['import-hf', async () => (await import('./import-hf')).importHfCliCommand()],
  ['eval', async () => (await import('./eval')).evalCliCommand()],
  ['generate', async () => (await import('./generate')).generateCliCommand()],
  ['data', async () => (await import('./data')).dataCommand()],
  ['preprocess', async () => (await import('./preprocess')).preprocessCliCommand()],
];

const program = new Command('tabtron')
  .description('Megatron/GPT-NeoX-style GPT training where every browser tab is a GPU rank')
  .showHelpAfterError();

try {
  const named = commands.filter(([name]) => name === process.argv[2]);
  for (const [, load] of named.length > 0 ? named : commands) program.addCommand(await load());
  await program.parseAsync(process.argv);
} catch (e) {
  // PlanError, ConfigError, CliError, CheckpointError, HfError and DataFormatError carry messages meant for the user;
  // anything else is a bug.
  const err = e as Error;
  const expected = ['PlanError', 'ConfigError', 'CliError', 'CheckpointError', 'HfError', 'DataFormatError'].includes(
    err.name,
  );
  process.stderr.write(`tabtron: ${expected ? err.message : (err.stack ?? String(err))}\n`);
  process.exitCode = 1;
}
