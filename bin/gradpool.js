#!/usr/bin/env node
// Runs the compiled CLI from dist/ when it has been built (`npm run build`),
// otherwise the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
let main;
let endWhenReaderGoes;
if (existsSync(fileURLToPath(compiled))) {
  ({ main, endWhenReaderGoes } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main, endWhenReaderGoes } = await import(new URL('../src/cli/main.ts', import.meta.url).href));
}
endWhenReaderGoes(process.argv[2]);
process.exitCode = await main(process.argv.slice(2));
