/**
 * Kills at random moments: a training run is SIGKILLed after a random delay,
 * resumed, killed again, … until it finishes; its final model and metrics must
 * equal an uninterrupted run's byte for byte. Repeated until `--kills` kills
 * have landed (default 50). Prints one line per kill and a JSON summary; exit 1
 * if any run failed to resume or ended with other bytes.
 *
 *   node --import tsx benchmarks/kill-loop.ts [--kills 50] [--seed 1]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Random } from '../src/random.js';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '50' }, seed: { type: 'string', default: '1' } } });
const kills = Number(values.kills);
const random = new Random(Number(values.seed));
const root = fileURLToPath(new URL('..', import.meta.url));
const recipe = ['--dataset', 'spiral', '--hidden', '16', '--batch', '16', '--lr', '0.5', '--optimizer', 'adam', '--sampling', 'shuffle', '--seed', '3', '--threads', '2', '--iters', '600', '--quiet'];
const FINAL_FILES = ['model.safetensors', 'metrics.jsonl', 'metrics.csv'];

/** Runs the CLI; kills it after `killAfterMs` when given. Resolves to how it ended. */
function train(args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stderr, ms: performance.now() - started });
  }));
}

const dir = mkdtempSync(join(tmpdir(), 'gradpool-kill-loop-'));
const reference = join(dir, 'reference');
const whole = await train([...recipe, '--out', reference]);
if (whole.code !== 0) throw new Error(`the reference run failed: ${whole.stderr}`);
const expected = FINAL_FILES.map((file) => readFileSync(join(reference, file)));
console.log(`reference run: ${(whole.ms / 1000).toFixed(1)} s`);

let landed = 0;
let runs = 0;
const failures: string[] = [];
while (landed < kills) {
  runs++;
  const out = join(dir, `run-${runs}`);
  let args = [...recipe, '--out', out];
  for (;;) {
    // Anywhere from process start-up to past the end of a whole run.
    const delay = Math.round(random.uniform() * whole.ms * 1.1);
    const result = await train(args, landed < kills ? delay : undefined);
    if (result.signal === 'SIGKILL') {
      landed++;
      console.log(`kill ${landed}: run ${runs} after ${delay} ms`);
      // Killed before config.json was written, the run has not begun: the same command starts it.
      const begun = (() => { try { readFileSync(join(out, 'config.json')); return true; } catch { return false; } })();
      args = begun ? ['--resume', out, '--quiet'] : [...recipe, '--out', out];
      continue;
    }
    if (result.code !== 0) failures.push(`run ${runs}: exit ${result.code}: ${result.stderr.trim()}`);
    break;
  }
  FINAL_FILES.forEach((file, i) => {
    let bytes: Buffer | undefined;
    try { bytes = readFileSync(join(out, file)); } catch { /* reported below */ }
    if (bytes === undefined || !bytes.equals(expected[i])) failures.push(`run ${runs}: ${file} differs from the uninterrupted run's`);
  });
}
console.log(JSON.stringify({ kills: landed, runs, failures }, null, 2));
rmSync(dir, { recursive: true, force: true });
process.exitCode = failures.length === 0 ? 0 : 1;
