// One line of progress for batch prediction on a TTY, e.g. "[########............]  41%  12.3/30.0 MB  10,240 records".
import type { PredictFileProgress } from './batch.ts';

/** The progress line, `width` characters of bar; the caller writes it after "\r" and ends with "\n". */
export function formatProgress(p: PredictFileProgress, width = 24): string {
  const fraction = p.totalBytes > 0 ? Math.min(1, p.doneBytes / p.totalBytes) : 1;
  const filled = Math.round(fraction * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${bar}] ${percent}  ${megabytes(p.doneBytes)}/${megabytes(p.totalBytes)} MB  ${p.records.toLocaleString('en-US')} records`;
}

function megabytes(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}
