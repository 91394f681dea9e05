import type { SessionMetrics } from '../../../src/shared/metrics.ts';
import type { SessionDetail } from '../../../src/shared/model.ts';

/** The export document: what the session page shows, as data. */
export function buildExport(detail: SessionDetail, metrics: SessionMetrics | null | undefined) {
  return {
    exportedAt: new Date().toISOString(),
    status: detail.status,
    timeline: detail.timeline,
    metrics: metrics ?? null,
  };
}

export function exportFileName(id: string): string {
  return `livestream-${id.replace(/[^\w.-]+/g, '_')}.json`;
}

/** Downloads the session as JSON (a Blob URL, revoked once the click is handled). */
export function downloadSession(
  detail: SessionDetail,
  metrics: SessionMetrics | null | undefined,
): void {
  const blob = new Blob([JSON.stringify(buildExport(detail, metrics), null, 2)], {
    type: 'application/json',
  });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = exportFileName(detail.status.id);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
