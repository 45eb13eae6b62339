/**
 * What gradpool knows of the npm script that ran it (`npm_lifecycle_event`,
 * `npm_package_name`, `npm_config_*`): in a checkout no `gradpool` command is
 * on the PATH, so the commands a run suggests must go through `npm start` or
 * `npm run gradpool`; and npm keeps for itself the options typed before a
 * `--`, leaving gradpool their values alone.
 */

/**
 * How to run `gradpool train` again, for the commands a run suggests (resume
 * after an interruption, go on at a smaller rate after a divergence): through
 * this package's own `npm start` (`gradpool train` with the defaults; options
 * after `--`) or `npm run gradpool` (the command after `--`) when one of them
 * ran this; anything else (npx, a global install, node itself, another
 * package's scripts) gets `gradpool train`.
 */
export function trainInvocation(env: NodeJS.ProcessEnv = process.env): string {
  if (env.npm_package_name !== 'gradpool') return 'gradpool train';
  if (env.npm_lifecycle_event === 'start') return 'npm start --';
  if (env.npm_lifecycle_event === 'gradpool') return 'npm run gradpool -- train';
  return 'gradpool train';
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
  const script = env.npm_package_name === 'gradpool' && event === 'start' ? 'npm start --'
    : env.npm_package_name === 'gradpool' && event === 'gradpool' ? `npm run gradpool -- ${command}`
      : `npm run ${event} --`;
  return `npm took ${taken.map((name) => `\`--${name}\``).join(', ')} for itself; put \`--\` before gradpool's options: \`${script} --${taken[0]} …\``;
}
