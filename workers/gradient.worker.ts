// Piscina worker entry: one task per call, or a serve task that runs the pool's calls until it ends (serve-loop.ts).
// Loaded through a require hook under tsx, so no top-level await here.
import { runGradientTask } from '../src/parallel/run-task.js';

export default runGradientTask;
