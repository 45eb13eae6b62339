// Piscina worker of the machine-ceiling probe (see ceiling.ts): whole
// gradients on private copies, or gradients split as the pool splits them.
// Loaded through a require hook under tsx, so no top-level await here.
import { computeSplitGradients, computeWholeGradients, type CeilingTask, type SplitTask } from './ceiling.js';

export default (task: CeilingTask | SplitTask) => (task.kind === 'split' ? computeSplitGradients(task) : computeWholeGradients(task));
