/**
 * What gradpool knows of the npm script that ran it (`npm_lifecycle_event`,
 * `npm_package_name`, `npm_config_*`): in a checkout no `gradpool` command is
 * on the PATH, so the commands a run suggests must go through `npm start` or
 * `npm run gradpool`; and npm keeps for itself the options typed before a
 * `--`, leaving gradpool their values alone.
 */

/**
 * How this package's own npm script that ran gradpool runs `command` again:
 * `npm start --` (`gradpool train` with the defaults, options after `--`) or
 * `npm run gradpool -- <command>`; undefined for anything else (npx, a global
 * install, node itself, another package's scripts, whose options may not mix
 * with the ones suggested).
 */
function ownScript(command: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.npm_package_name !== 'gradpool') return undefined;
  if (env.npm_lifecycle_event === 'start' && command === 'train') return 'npm start --';
  if (env.npm_lifecycle_event === 'gradpool') return `npm run gradpool -- ${command}`;
  return undefined;
}

/**
 * How to run `gradpool train` again, for the commands a run suggests (resume
 * after an interruption, go on at a smaller rate after a divergence): through
 * the package's own script that ran this ({@link ownScript}), else
 * `gradpool train`.
 */
export function trainInvocation(env: NodeJS.ProcessEnv = process.env): string {
  return ownScript('train', env) ?? 'gradpool train';
}

/** npm's own settings that a gradpool option is taken for: npm expands `--engine` to `--engine-strict`. */
const NPM_SETTING_OF: Record<string, string> = { engine: 'engine_strict' };

/**
 * The options of `names` that npm took for itself when it ran gradpool
 * (`npm run gradpool train --iters 5` sets `npm_config_iters=true` and passes
 * only `5`), and how to pass them: for a refusal of the value left behind.
 * `undefined` when npm did not run gradpool or took none of them.
 */
export function npmTookOptions(names: readonly string[], command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const event = env.npm_lifecycle_event;
  if (event === undefined) return undefined;
  const taken = names.filter((name) => env[`npm_config_${NPM_SETTING_OF[name] ?? name.replace(/-/g, '_')}`] === 'true');
  if (taken.length === 0) return undefined;
  const script = ownScript(command, env) ?? `npm run ${event} --`;
  return `npm took ${taken.map((name) => `\`--${name}\``).join(', ')} for itself; put \`--\` before gradpool's options: \`${script} --${taken[0]} …\``;
}
