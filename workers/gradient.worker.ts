// Piscina worker entry: one gradient task (a parameter range) per call.
// Loaded through a require hook under tsx, so no top-level await here.
import { runGradientTask } from '../src/parallel/run-task.js';

export default runGradientTask;
