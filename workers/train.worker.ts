// The background trainer's thread (src/run/train-in-background.ts): exposes one run over comlink.
// Loaded through a require hook under tsx, so no top-level await here.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { backgroundTrainer } from '../src/run/background-worker.js';

if (parentPort === null) throw new Error('workers/train.worker is a worker thread\'s module; start it with trainInBackground()');
Comlink.expose(backgroundTrainer(), nodeEndpoint(parentPort));
