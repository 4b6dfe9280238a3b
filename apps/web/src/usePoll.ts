import { useCallback, useEffect, useRef, useState } from "react";

/** How often live figures refresh. */
export const POLL_MS = 2_000;

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  /** Fetch again now (e.g. after a mutation). */
  refresh: () => void;
}

/**
 * Calls `load` now and every `intervalMs` while the component is mounted (and
 * again whenever `key` changes); keeps the last good value through errors.
 */
export function usePoll<T>(load: () => Promise<T>, key: string, intervalMs = POLL_MS): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await loadRef.current();
        if (cancelled) return;
        setData(value);
        setError(null);
      } catch (e) {
        if (!cancelled) setError(e);
      }
      if (!cancelled && intervalMs > 0) timer = setTimeout(() => void run(), intervalMs);
    };
    void run();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [key, tick, intervalMs]);

  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, refresh };
}
