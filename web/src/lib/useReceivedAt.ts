import { useEffect, useState } from 'react';

/** When this page last received a new value (identity change) of `data`; null until it has one. */
export function useReceivedAt(data: unknown): number | null {
  const [at, setAt] = useState<number | null>(null);
  useEffect(() => {
    if (data !== undefined && data !== null) setAt(Date.now());
  }, [data]);
  return at;
}
