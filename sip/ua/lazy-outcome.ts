/**
 * The outcome of something that finishes once, exposed as a Promise that is
 * created only when someone asks for it. An outcome nobody awaits then never
 * becomes an unhandled rejection — the application that listens to events
 * instead of awaiting pays nothing and sees no warning.
 */
export class LazyOutcome<T> {
  private state: 'pending' | 'resolved' | 'rejected' = 'pending';
  private value: T | undefined;
  private error: unknown;
  private promise: Promise<T> | undefined;
  private settle: { resolve(v: T): void; reject(e: unknown): void } | undefined;

  /** True once resolved or rejected. */
  get settled(): boolean {
    return this.state !== 'pending';
  }

  /** The Promise of the outcome (the same object on every call). */
  get(): Promise<T> {
    if (this.promise) return this.promise;
    if (this.state === 'resolved') this.promise = Promise.resolve(this.value as T);
    else if (this.state === 'rejected') this.promise = Promise.reject(this.error);
    else this.promise = new Promise<T>((resolve, reject) => (this.settle = { resolve, reject }));
    return this.promise;
  }

  /** Settles with `value`; later calls are ignored. */
  resolve(value: T): void {
    if (this.state !== 'pending') return;
    this.state = 'resolved';
    this.value = value;
    this.settle?.resolve(value);
  }

  /** Settles with `error`; later calls are ignored. */
  reject(error: unknown): void {
    if (this.state !== 'pending') return;
    this.state = 'rejected';
    this.error = error;
    this.settle?.reject(error);
  }
}
