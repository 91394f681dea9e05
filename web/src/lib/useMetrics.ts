import { useCallback, useEffect, useRef, useState } from 'react';
import type { SessionMetrics } from '../../../src/shared/metrics.ts';
import { ApiError, getJson } from './api.ts';

/** The seed's fallback refresh period for the metric panels. */
export const METRICS_REFRESH_MS = 5000;

export interface MetricsState {
  /** Undefined while nothing arrived yet; null when the server has no metrics for the session. */
  data: SessionMetrics | null | undefined;
  /** When the panels last got confirmed data (push or refresh). */
  at: number | null;
  /** Why the last refresh failed; cleared by the next success. */
  error: string | null;
}

/**
 * Metrics from the `metrics:<id>` topic, plus the seed's fallback: a GET every
 * 5 s and on each status push (`pulse` changes), never two at once (requests
 * meanwhile coalesce into one trailing refresh). A refresh that started before
 * a newer push does not overwrite the pushed data.
 */
export function useMetrics(
  id: string,
  pushed: SessionMetrics | null | undefined,
  pulse: unknown,
): MetricsState & { refresh: () => Promise<void> } {
  const [state, setState] = useState<MetricsState>({ data: undefined, at: null, error: null });
  const refreshing = useRef(false);
  const again = useRef(false);
  const lastPushAt = useRef(0);

  const refresh = useCallback(async (): Promise<void> => {
    // One refresh at a time; a request made meanwhile runs once right after,
    // so a status push during a slow fetch still ends in fresh panels.
    if (refreshing.current) {
      again.current = true;
      return;
    }
    refreshing.current = true;
    again.current = false;
    const startedAt = Date.now();
    try {
      const data = await getJson<SessionMetrics>(`metrics/${encodeURIComponent(id)}`);
      setState((s) => ({
        data: lastPushAt.current > startedAt ? s.data : data,
        at: Date.now(),
        error: null,
      }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        setState({ data: null, at: Date.now(), error: null });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        setState((s) => ({ ...s, error: message }));
      }
    } finally {
      refreshing.current = false;
    }
    if (again.current) await refresh();
  }, [id]);

  useEffect(() => {
    if (pushed === undefined) return;
    lastPushAt.current = Date.now();
    setState({ data: pushed, at: lastPushAt.current, error: null });
  }, [pushed]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `pulse` is the trigger: refresh on every status push
  useEffect(() => {
    void refresh();
  }, [refresh, pulse]);

  useEffect(() => {
    const timer = setInterval(() => void refresh(), METRICS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  return { ...state, refresh };
}
