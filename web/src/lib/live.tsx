import { createContext, type ReactNode, useContext } from 'react';
import type { TopicData, TopicKind } from '../../../src/shared/topics.ts';
import type { ConnectionView } from '../components/ConnectionBadge.tsx';
import * as fx from '../dev/fixtures.ts';

const Ctx = createContext<null>(null);

export function LiveProvider({ children }: { children: ReactNode }) {
  return <Ctx.Provider value={null}>{children}</Ctx.Provider>;
}

const FIX: Record<string, unknown> = {
  sessions: { sessions: fx.sessions },
  plans: { plans: fx.plans },
};

/** Topic data: undefined while loading, null when the topic does not exist. */
export function useLive<K extends TopicKind>(
  kind: K,
  id?: string,
): TopicData[K] | null | undefined {
  useContext(Ctx);
  if (kind === 'session') return (id === 'weather-app' ? fx.detail : null) as TopicData[K];
  if (kind === 'logs') return fx.logs as TopicData[K];
  if (kind === 'metrics') return fx.metrics as TopicData[K];
  if (kind === 'plan') return fx.plan as TopicData[K];
  return FIX[kind] as TopicData[K];
}

export function useConn(): ConnectionView {
  return { status: 'live', nextAttemptAt: null, attempts: 0 };
}
