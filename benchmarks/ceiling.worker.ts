// Piscina worker of the machine-ceiling probe (see ceiling.ts): whole
// gradients on private copies. Loaded through a require hook under tsx, so no
// top-level await here.
import { computeWholeGradients } from './ceiling.js';

export default computeWholeGradients;
