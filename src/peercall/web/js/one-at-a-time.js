// Work that must not overlap: signals applied to a peer connection, changes of how
// our video is sent, files on one data channel, requests to the server. Each task
// starts once the one before it has settled, whether that one worked or failed.

export class OneAtATime {
  #last = Promise.resolve();

  /** Runs `task` (a function that may return a promise) after those given before
   * it; resolves or rejects as the task does. A failure does not hold back the
   * next task. */
  run(task) {
    const outcome = this.#last.then(task);
    this.#last = outcome.catch(() => {});
    return outcome;
  }
}
