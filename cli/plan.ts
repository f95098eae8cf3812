// `tabtron plan <config.yml> [more.yml ...] [--world N] [--json]`: what a run with these NeoX
// configs would do on N ranks, before any training.

import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../src/config/index';
import { planFromConfig, planJson, renderPlanText } from '../src/parallel/index';

export interface PlanOptions {
  world?: number;
  virtualStages?: number;
  vocabSize?: number;
  json?: boolean;
}

/** The text (or JSON) `tabtron plan` prints; throws ConfigError / PlanError on bad input. */
export function runPlan(paths: readonly string[], opts: PlanOptions): string {
  const resolved = loadConfig(paths);
  const { plan, warnings } = planFromConfig(resolved.config, {
    world: opts.world,
    vocabSize: opts.vocabSize,
    virtualChunks: opts.virtualStages,
    sources: resolved.sources,
  });
  const all = [...resolved.warnings, ...warnings];
  return opts.json ? `${JSON.stringify(planJson(plan, all))}\n` : renderPlanText(plan, all);
}

export function planCommand(): Command {
  return new Command('plan')
    .description(
      'print the parallel plan (sizes, process groups, layer partition, pipeline schedule, memory) for NeoX configs',
    )
    .argument('<configs...>', 'NeoX YAML config files, merged in order (later files win)')
    .option('--world <n>', 'number of ranks (default: global_num_gpus from the config)', positiveInt('--world'))
    .option(
      '--virtual-stages <v>',
      'model chunks per pipeline stage (interleaved 1F1B)',
      positiveInt('--virtual-stages'),
    )
    .option(
      '--vocab-size <n>',
      'tokenizer vocabulary size, before padding (default: from tokenizer_type)',
      positiveInt('--vocab-size'),
    )
    .option('--json', 'print one JSON object instead of text')
    .action((configs: string[], opts: PlanOptions) => {
      process.stdout.write(runPlan(configs, opts));
    });
}

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag} must be a positive integer, got "${value}"`);
    return n;
  };
}
