// `npm run build:js`: dist/ as `tsc -p tsconfig.build.json` emits it (byte for byte the same
// JavaScript and source maps) but transpiled file by file, without the type check and the
// declarations, which is what costs tsc its time and memory (it first builds every type of the
// sources, @types/node, zod, vega-lite…): measured 2.6 s and 189 MB peak RSS against tsc's 7 s
// and 330 MB. For running the CLI from the sources (`npm start`); `npm run build` (prepack) and
// `npm run typecheck` still check the types. Correct per file because tsconfig.json sets
// `isolatedModules`; syntax errors fail it as they fail tsc.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = join(root, 'tsconfig.build.json');
const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, configFile);
const outDir = parsed.options.outDir ?? join(root, 'dist');
// The package is `"type": "module"`: every .ts file is an ES module (tsc reads that from
// package.json under NodeNext; a file transpiled alone must be told).
const compilerOptions = {
  ...parsed.options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, declaration: false, declarationMap: false, noEmit: false,
};

rmSync(outDir, { recursive: true, force: true });
for (const file of parsed.fileNames) {
  if (file.endsWith('.d.ts')) continue;
  const source = readFileSync(file, 'utf8');
  const out = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
  const { outputText, sourceMapText, diagnostics = [] } = ts.transpileModule(source, { compilerOptions, fileName: file, reportDiagnostics: true });
  if (diagnostics.length > 0) {
    // Syntax errors only (there is no type check here): reported as tsc reports them, and the build fails.
    process.stderr.write(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (name) => name, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
    process.exitCode = 1;
    continue;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, outputText);
  if (sourceMapText !== undefined) {
    // As tsc writes it: the source relative to the map.
    const map = JSON.parse(sourceMapText);
    writeFileSync(`${out}.map`, JSON.stringify({ ...map, sources: [relative(dirname(out), file).split('\\').join('/')] }));
  }
}
