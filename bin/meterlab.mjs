#!/usr/bin/env node
// The `meterlab` command. The project runs from its TypeScript sources through tsx, so a fresh checkout
// needs only `npm ci` — no build step between editing and running.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./cli.ts');
process.exitCode = await runCli(process.argv);
