// comlink ships its Node adapter as an .mjs file without package `exports` or a .d.mts, so
// NodeNext resolution finds no types for it: this declares the one function it exports.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';

  /** What the adapter wraps: a `worker_threads` Worker or MessagePort (`parentPort`). */
  export type NodeEndpoint = import('node:worker_threads').Worker | import('node:worker_threads').MessagePort;

  /** A comlink Endpoint over a Node worker or port. */
  export default function nodeEndpoint(endpoint: NodeEndpoint): Endpoint;
}
