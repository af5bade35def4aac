#!/usr/bin/env node
import { launch } from '../cli/launch.mjs';
await launch(new URL('../cli/verify.ts', import.meta.url).href);
