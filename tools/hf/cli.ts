// The model commands alone (export-hf, import-hf, eval, generate), without the coordinator's
// dependencies: the entry point bundled for the GPU machine (tools/hf/pack.sh).
import { Command } from 'commander';
import { evalCliCommand } from '../../cli/eval';
import { exportHfCliCommand } from '../../cli/export-hf';
import { generateCliCommand } from '../../cli/generate';
import { importHfCliCommand } from '../../cli/import-hf';

const program = new Command('tabtron').showHelpAfterError();
for (const c of [exportHfCliCommand(), importHfCliCommand(), evalCliCommand(), generateCliCommand()])
  program.addCommand(c);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as Error;
  const expected = ['ConfigError', 'CliError', 'CheckpointError', 'HfError'].includes(err.name);
  process.stderr.write(`tabtron: ${expected ? err.message : (err.stack ?? String(err))}\n`);
  process.exit(1);
}
