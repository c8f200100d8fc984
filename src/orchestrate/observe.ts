/** Observer hooks are called through this: a watcher's failure never changes the run. */
/** Calls a hook; what it throws or rejects with is swallowed. */
export const safely = (f: () => unknown) => {
  try {
    const r = f();
    if (r instanceof Promise) return r.catch(() => undefined);
  } catch {
    // The observer only watches.
  }
  return undefined;
};
