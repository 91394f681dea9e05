import { useState } from 'react';
import type { SessionMetrics } from '../../../src/shared/metrics.ts';
import type { SessionDetail } from '../../../src/shared/model.ts';
import { getJson } from '../lib/api.ts';
import { downloadSession } from '../lib/exportSession.ts';

/** Downloads status, timeline and the latest metrics as one JSON file. */
export function ExportButton({ detail }: { detail: SessionDetail }) {
  const [busy, setBusy] = useState(false);
  const onClick = async () => {
    setBusy(true);
    try {
      const id = encodeURIComponent(detail.status.id);
      const metrics = await getJson<SessionMetrics>(`metrics/${id}`).catch(() => null);
      downloadSession(detail, metrics);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" onClick={() => void onClick()} disabled={busy}>
      ⤓ Export JSON
    </button>
  );
}
