import type { DeltaMessage } from '../shared/protocol.ts';
import type { DeltaListener, FanOut } from './types.ts';

/** The embedded fan-out: synchronous delivery to in-process listeners. */
export class InProcessFanOut implements FanOut {
  readonly #byTopic = new Map<string, Set<DeltaListener>>();
  readonly #all = new Set<DeltaListener>();

  publish(delta: DeltaMessage): void {
    for (const listener of this.#all) listener(delta);
    const listeners = this.#byTopic.get(delta.topic);
    if (listeners) for (const listener of listeners) listener(delta);
  }

  subscribe(topic: string, listener: DeltaListener): () => void {
    let set = this.#byTopic.get(topic);
    if (!set) {
      set = new Set();
      this.#byTopic.set(topic, set);
    }
    set.add(listener);
    return () => {
      const current = this.#byTopic.get(topic);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.#byTopic.delete(topic);
    };
  }

  subscribeAll(listener: DeltaListener): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }

  hasListeners(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  /** Number of topic subscriptions (for tests and /metrics). */
  get subscriptions(): number {
    let n = 0;
    for (const set of this.#byTopic.values()) n += set.size;
    return n;
  }
}
