// Starts a worker thread's TypeScript module from the sources. Under tsx (Node 20) a loader's ESM
// hooks do not reach worker threads but its require hook does; under a loader whose ESM hooks do
// (tap's), require refuses an ES module and import() works. Piscina's workers load the same way.
// The compiled package starts its workers' .js modules directly and never uses this file.
const { workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');

try {
  require(workerData.typescriptEntry);
} catch (error) {
  if (error.code !== 'ERR_REQUIRE_ESM') throw error;
  import(pathToFileURL(workerData.typescriptEntry).href);
}
