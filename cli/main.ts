// tabtron's command line. Each subcommand lives in cli/<name>.ts and exports a function that
// returns its commander Command; this file only registers them and reports their errors.

import { Command } from 'commander';
import { checkpointCommand } from './checkpoint';
import { coordinatorCommand } from './coordinator';
import { evalCliCommand } from './eval';
import { exportHfCliCommand } from './export-hf';
import { generateCliCommand } from './generate';
import { importHfCliCommand } from './import-hf';
import { dataCommand } from './data';
import { planCommand } from './plan';
import { preprocessCliCommand } from './preprocess';
import { trainCliCommand, validateCliCommand } from './train';

const program = new Command('tabtron')
  .description('Megatron/GPT-NeoX-style GPT training where every browser tab is a GPU rank')
  .showHelpAfterError();

program.addCommand(planCommand());
program.addCommand(trainCliCommand());
program.addCommand(validateCliCommand());
program.addCommand(coordinatorCommand());
program.addCommand(checkpointCommand());
program.addCommand(exportHfCliCommand());
program.addCommand(importHfCliCommand());
program.addCommand(evalCliCommand());
program.addCommand(generateCliCommand());
program.addCommand(dataCommand());
program.addCommand(preprocessCliCommand());

try {
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
