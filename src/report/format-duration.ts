/** Durations for people, in one style everywhere (progress, summaries, the benchmark). */

/** `0s`, `123ms`, `4.21s`, `45.2s`, `2m21s`, `1h02m`; `?` for a duration not known (NaN, Infinity). */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds)) return '?';
  const ms = Math.max(0, milliseconds);
  if (ms === 0) return '0s';
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(ms < 9995 ? 2 : 1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
