// Standalone entry: `node --import tsx coordinator/main.ts [configs...] --port 0 --data-dir DIR`.
// Same options as `tabtron coordinator`.

import { coordinatorCommand } from '../cli/coordinator';

coordinatorCommand()
  .parseAsync(process.argv)
  .catch((e: Error) => {
    process.stderr.write(`coordinator: ${e.message}\n`);
    process.exit(1);
  });
