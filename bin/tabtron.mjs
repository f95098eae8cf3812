#!/usr/bin/env node
// npm bin: runs cli/main.ts in this process through tsx, with tools/register-raw.mjs so that
// `?raw` imports (WGSL shaders) load as text, as Vite loads them.
import { register } from 'tsx/esm/api';

register();
await import('../tools/register-raw.mjs');
await import('../cli/main.ts');
