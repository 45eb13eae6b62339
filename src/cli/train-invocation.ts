/**
 * How to run `gradpool train` again, for the commands a run suggests (resume
 * after an interruption, go on at a smaller rate after a divergence), given
 * the npm script that ran this one (`npm_lifecycle_event`): in a checkout no
 * `gradpool` command is on the PATH, and `npm start` or `npm run gradpool`
 * ran it; `npm start -- …` and `npm run gradpool -- train …` pass the options
 * on. Anything else (npx, a global install, node itself) gets `gradpool train`.
 */
export function trainInvocation(lifecycleEvent: string | undefined = process.env.npm_lifecycle_event): string {
  if (lifecycleEvent === 'start') return 'npm start --';
  if (lifecycleEvent === 'gradpool') return 'npm run gradpool -- train';
  return 'gradpool train';
}
