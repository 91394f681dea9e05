import { useEffect, useRef, useState } from 'react';
import type { ReplayFrame } from '../../../src/shared/replay.ts';
import { getJson } from './api.ts';

/**
 * What a frame carries for the page: about two boxes' worth of timeline rows and log
 * lines (the boxes show some 15), so each scrub step parses and lays out little.
 */
const FRAME_ROWS = 40;
const FRAME_LINES = 60;

export interface FrameState {
  /** The last frame received (possibly of an earlier moment while the next is on its way). */
  frame: ReplayFrame | null;
  error: string | null;
}

/**
 * The replay frame at `moment` (rounded to the millisecond), fetched from the
 * server (`GET /api/status/:id?at=`). One request at a time: moments asked for
 * while it is on its way replace each other, and when it lands the newest one
 * is fetched. So a drag or a 60× playback sends at most one request per round
 * trip, never a queue, and the frame shown is at most one round trip behind.
 * Leaving the page (or the session) cancels the request in flight.
 */
export function useReplayFrame(id: string, moment: number | null): FrameState {
  const [state, setState] = useState<FrameState>({ frame: null, error: null });
  const wanted = useRef<number | null>(null);
  const inFlight = useRef<AbortController | null>(null);

  useEffect(
    () => () => {
      inFlight.current?.abort();
      inFlight.current = null;
      wanted.current = null;
    },
    [],
  );

  useEffect(() => {
    if (moment === null) return;
    wanted.current = Math.round(moment);
    if (inFlight.current) return;
    const fetchFrame = (at: number) => {
      const controller = new AbortController();
      inFlight.current = controller;
      const size = `rows=${FRAME_ROWS}&lines=${FRAME_LINES}`;
      getJson<ReplayFrame>(`status/${encodeURIComponent(id)}?at=${at}&${size}`, controller.signal)
        .then((frame) => {
          if (!controller.signal.aborted) setState({ frame, error: null });
        })
        .catch((e: unknown) => {
          if (!controller.signal.aborted) {
            setState((s) => ({ ...s, error: (e as Error).message }));
          }
        })
        .finally(() => {
          if (controller.signal.aborted) return;
          inFlight.current = null;
          const next = wanted.current;
          if (next !== null && next !== at) fetchFrame(next);
        });
    };
    fetchFrame(wanted.current);
  }, [id, moment]);

  return state;
}
