/**
 * The API reference builds, and shows each export's own TSDoc: `npm run docs`
 * (typedoc.json: both package entries, `validation.notDocumented`,
 * `treatWarningsAsErrors`) into a temporary directory must exit 0 with no
 * warning or error, so an export added without TSDoc, a link to something
 * unexported or a broken `{@link}` fails here. For a few key exports the page
 * must exist and open with the comment above their declaration: the first
 * comment of an entry file that is not made the module's (`@module`) is shown
 * instead, at the top of the page of every export of the statement it precedes.
 * Offline; run by `npm run test:stress`.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from '../fixtures/child-env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Exports whose pages must exist: the entry points a user meets first, from both entries. */
const KEY_EXPORTS = [
  { name: 'GradientPool', kind: 'classes' },
  { name: 'Trainer', kind: 'classes' },
  { name: 'train', kind: 'functions' },
  { name: 'trainInBackground', kind: 'functions' },
  { name: 'softmax', kind: 'functions' },
  { name: 'loadMnist', kind: 'functions' },
] as const;

/**
 * The environment of `npm run docs` as a developer runs it: without tap's
 * loaders (typedoc reads the sources itself) and without coverage.
 */
function docsEnv(): NodeJS.ProcessEnv {
  const env = childEnv();
  delete env.NODE_OPTIONS;
  return env;
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd: root, env: docsEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += String(chunk); });
  child.stderr.on('data', (chunk: Buffer) => { output += String(chunk); });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path).map((file) => join(name, file)) : [name];
  });
}

/** The TypeScript sources of the package: where the key exports are declared. */
function sourceFiles(): string[] {
  return ['src', 'datasets'].flatMap((dir) => filesUnder(join(root, dir)).filter((file) => file.endsWith('.ts')).map((file) => join(root, dir, file)));
}

/** Text as a reader sees it: TSDoc's `{@link X}` and markdown's backticks gone, whitespace collapsed. */
function plain(text: string): string {
  return text.replace(/\{@link(?:code|plain)?\s+([^}|\s]+)(?:\s*\|\s*([^}]+))?\}/g, (_, target: string, label?: string) => label ?? target)
    .replace(/`/g, '').replace(/\s+/g, ' ').trim();
}

/** HTML as text: tags dropped, the entities typedoc writes decoded. */
function htmlText(html: string): string {
  return plain(html.replace(/<[^>]*>/g, ' ')
    .replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

/** The first comment on a typedoc page: the export's own (a class's, or a function's first signature's). */
function firstComment(html: string): string {
  return htmlText(/<div class="tsd-comment tsd-typography">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '');
}

/** The first words of the TSDoc comment right above `export … (function|class) name`, or undefined. */
function firstWords(name: string, sources: string[]): { file: string; words: string } | undefined {
  const declaration = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*export\\s+(?:async\\s+)?(?:function|class)\\s+${name}\\b`);
  for (const file of sources) {
    const match = declaration.exec(readFileSync(file, 'utf8'));
    if (match === null) continue;
    const summary = match[1].split('\n').map((line) => line.replace(/^\s*\*\s?/, '')).join('\n').split(/\n\s*(?:\n|@)/)[0];
    return { file: relative(root, file), words: plain(summary).split(' ').slice(0, 8).join(' ') };
  }
  return undefined;
}

t.test('npm run docs builds the API reference with no warning, and the key exports have their own pages', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'gradpool-docs-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const { code, output } = await run('npm', ['run', 'docs', '--silent', '--', '--out', out]);
  // typedoc colours its output even into a pipe.
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const complaints = lines.filter((line) => /^\s*\[(warning|error)\]/i.test(line));
  t.equal(code, 0, `npm run docs exits 0:\n${output}`);
  t.same(complaints, [], 'no warning or error lines');
  t.ok(lines.some((line) => /html generated at/i.test(line)), 'typedoc reports the HTML written');

  const pages = filesUnder(out);
  t.ok(pages.includes('index.html'), 'an index page');
  const sources = sourceFiles();
  for (const { name, kind } of KEY_EXPORTS) {
    const page = pages.find((file) => file.startsWith(`${kind}/`) && file.endsWith(`.${name}.html`));
    if (!t.ok(page, `${kind}/….${name}.html exists`)) continue;
    const comment = firstWords(name, sources);
    if (!t.ok(comment, `the declaration of ${name} has a TSDoc comment`)) continue;
    const shown = firstComment(readFileSync(join(out, page!), 'utf8'));
    t.ok(shown.includes(comment!.words), `${page} opens with the comment of ${name} in ${comment!.file}: "${comment!.words} …", got "${shown.slice(0, 120)}"`);
  }
});
