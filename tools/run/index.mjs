#!/usr/bin/env node
import { launch } from '../cli/launch.mjs';
await launch(new URL('../cli/run.ts', import.meta.url).href);
