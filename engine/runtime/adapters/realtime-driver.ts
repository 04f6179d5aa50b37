/**
 * Drives the kernel from the wall clock when a source talks to real sockets (ws and intercept
 * transports). This is the one place in engine/ that reads real time and sleeps; simulation
 * never comes here. Transports call `notify()` when data arrives so the loop wakes early.
 */
export interface RealtimeDriver {
  now(): number;
  /** Resolves at wall time `until` (ms since epoch) or at the next notify(), whichever is first. */
  wait(until: number): Promise<void>;
  notify(): void;
}

export class WallClockDriver implements RealtimeDriver {
  private wake?: () => void;
  private pending = false;

  now(): number {
    return Date.now(); // real-time: ws/intercept mode follows the wall clock by definition
  }

  wait(until: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const ms = Math.max(0, Math.min(until - Date.now(), 1_000)); // real-time: see above
      const timer = setTimeout(done, ms); // real-time: bounded sleep between kernel steps
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  notify(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }
}
