#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages (esbuild, rollup, biome, …) that
// this machine's npm registry does not serve. npm 11's `npm ci` checks that every name in a package's
// optionalDependencies has a lock entry (npm/cli#4828), but `npm install` cannot record packages the registry
// answers 404 for, so a freshly made lock fails `npm ci`. The added entries carry the os/cpu/libc read off the
// package name, so npm skips them on every other platform and never downloads them.
// Run after `npm install` changes the lock: node scripts/complete-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const OS = [
  'android',
  'darwin',
  'win32',
  'freebsd',
  'linux',
  'openharmony',
  'netbsd',
  'openbsd',
  'sunos',
  'aix',
  'cygwin',
];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'loong64', 'ppc64', 'riscv64', 's390x', 'mips64el', 'wasm32'];

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    if (lock.packages[at] || lock.packages[`${path}/${at}`]) continue;
    const tokens = name.split('/').pop().split('-');
    const os = OS.find((o) => tokens.includes(o));
    const cpu =
      CPU.find((c) => tokens.includes(c)) ?? (tokens.some((t) => /eabihf$/.test(t)) ? 'arm' : undefined);
    if (!os && !cpu) continue; // not a platform package: leave it to npm
    lock.packages[at] = {
      version: String(spec).replace(/^[\^~=]/, ''),
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(os ? { os: [os] } : {}),
      ...(tokens.includes('musl') ? { libc: ['musl'] } : {}),
    };
    added++;
  }
}
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lock: added ${added} platform entries`);
