/**
 * The one event-emitter of the SIP core: typed, isomorphic (no `node:events`,
 * no DOM `EventTarget`), and small. Each event carries one payload object
 * (or nothing, `void`), as `WebSocketTransport` events do, so listeners
 * read `({ flow }) => …` rather than positional arguments.
 *
 * Listener lists are copy-on-write: subscribing copies the list, emitting
 * iterates it without allocating, and a listener that subscribes or
 * unsubscribes during an emit does not change who hears that emit.
 *
 * A listener that throws never breaks the emitter's caller (often a socket
 * or timer callback): the error goes to {@link TypedEmitter.listenerError},
 * which calls the `onListenerError` function given to the constructor
 * (typically the owner's logger) and which subclasses may override.
 *
 * ```ts
 * interface DoorEvents { opened: { by: string }; closed: void }
 * class Door extends TypedEmitter<DoorEvents> { open() { this.emit('opened', { by: 'alice' }); } }
 * const off = door.on('opened', ({ by }) => console.log(by));
 * off();
 * ```
 */
export type Listener<T> = (event: T) => void;

/** Where errors thrown by listeners go; `type` names the event. */
export type ListenerErrorHandler = (error: unknown, type: string) => void;

interface Entry {
  readonly fn: Listener<never>;
  readonly once: boolean;
}

const EMPTY: readonly Entry[] = Object.freeze([]);

export class TypedEmitter<Events extends object> {
  private readonly lists = new Map<keyof Events, readonly Entry[]>();
  private readonly onListenerError: ListenerErrorHandler | undefined;

  constructor(onListenerError?: ListenerErrorHandler) {
    this.onListenerError = onListenerError;
  }

  /** Subscribes `listener` to `type`; returns the function that unsubscribes it. */
  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    return this.add(type, listener, false);
  }

  /** Like {@link on}, but the listener is removed before its first call. */
  once<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    return this.add(type, listener, true);
  }

  /** Removes one subscription of `listener` to `type` (the most recent, if it was added twice). */
  off<K extends keyof Events>(type: K, listener: Listener<Events[K]>): void {
    const list = this.lists.get(type);
    if (!list) return;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].fn === (listener as Listener<never>)) {
        this.setList(type, list.slice(0, i).concat(list.slice(i + 1)));
        return;
      }
    }
  }

  /** Number of listeners of `type`. The core uses it to pick a default answer when nobody listens. */
  listenerCount<K extends keyof Events>(type: K): number {
    return (this.lists.get(type) ?? EMPTY).length;
  }

  /** Removes every listener of `type`, or of every event. */
  removeAllListeners<K extends keyof Events>(type?: K): void {
    if (type === undefined) this.lists.clear();
    else this.lists.delete(type);
  }

  /**
   * Calls every listener of `type` with `event`, in subscription order.
   * Returns whether there was any listener.
   */
  protected emit<K extends keyof Events>(type: K, event: Events[K]): boolean {
    const list = this.lists.get(type);
    if (!list || list.length === 0) return false;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      if (entry.once) this.removeEntry(type, entry);
      try {
        (entry.fn as Listener<Events[K]>)(event);
      } catch (e) {
        try {
          this.listenerError(e, String(type));
        } catch {
          // An error handler that throws has nowhere left to report to.
        }
      }
    }
    return true;
  }

  /** A listener of `type` threw `error`. Default: the constructor's `onListenerError`, if any. */
  protected listenerError(error: unknown, type: string): void {
    this.onListenerError?.(error, type);
  }

  private add<K extends keyof Events>(type: K, listener: Listener<Events[K]>, once: boolean): () => void {
    if (typeof listener !== 'function') throw new TypeError(`listener of ${String(type)} must be a function`);
    const entry: Entry = { fn: listener as Listener<never>, once };
    this.setList(type, (this.lists.get(type) ?? EMPTY).concat(entry));
    return () => this.removeEntry(type, entry);
  }

  private removeEntry(type: keyof Events, entry: Entry): void {
    const list = this.lists.get(type);
    if (!list) return;
    const i = list.indexOf(entry);
    if (i >= 0) this.setList(type, list.slice(0, i).concat(list.slice(i + 1)));
  }

  private setList(type: keyof Events, list: readonly Entry[]): void {
    if (list.length === 0) this.lists.delete(type);
    else this.lists.set(type, list);
  }
}
