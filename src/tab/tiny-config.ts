// The standalone page's default run: configs/tiny.yml resolved in the browser.
import tinyYaml from '../../configs/tiny.yml?raw';
import { parseConfigText, resolveConfig } from '../config';
import type { TrainConfig } from '../train/setup';

export async function tinyConfig(): Promise<TrainConfig> {
  const { config } = resolveConfig([parseConfigText(tinyYaml, 'configs/tiny.yml')]);
  return config as unknown as TrainConfig;
}
