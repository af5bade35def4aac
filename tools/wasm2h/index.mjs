#!/usr/bin/env node
import { launch } from '../cli/launch.mjs';
await launch(new URL('../cli/wasm2h.ts', import.meta.url).href);
