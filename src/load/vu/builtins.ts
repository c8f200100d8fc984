/**
 * Source evaluated once in each VU context: higher-order builtins that wait for a callback that
 * returns a promise. After the async transform, `urls.forEach((u) => http.get(u))` passes an async
 * callback; native forEach would fire every request at once and return before any ended. These
 * versions call the callback in order and, from the first promise on, await each result — a callback
 * that returns a plain value keeps the native, synchronous path. The call site is awaited, so a
 * returned promise is transparent to the script. Non-enumerable, like the originals.
 */
export const ASYNC_BUILTINS = `(() => {
  const then = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
  const def = (o, name, f) => Object.defineProperty(o, name, { value: f, writable: true, configurable: true, enumerable: false });
  const AP = Array.prototype;
  const loop = (name, step, finish) => {
    const orig = AP[name];
    def(AP, name, function (fn, ...rest) {
      if (typeof fn !== 'function') return orig.call(this, fn, ...rest);
      const arr = this, len = arr.length >>> 0, state = step.init(arr, rest);
      for (let i = 0; i < len; i++) {
        if (step.skipHoles && !(i in arr)) continue;
        const r = step.call(fn, arr, i, state, rest);
        if (then(r)) {
          return (async () => {
            let done = step.take(await r, arr, i, state);
            for (let j = i + 1; j < len && !done; j++) {
              if (step.skipHoles && !(j in arr)) continue;
              done = step.take(await step.call(fn, arr, j, state, rest), arr, j, state);
            }
            return finish(state);
          })();
        }
        if (step.take(r, arr, i, state)) break;
      }
      return finish(state);
    });
  };
  const cb = (fn, arr, i, st, rest) => fn.call(rest[0], arr[i], i, arr);
  loop('forEach', { skipHoles: true, init: () => ({}), call: cb, take: () => false }, () => undefined);
  loop('map', { skipHoles: true, init: (a) => ({ out: new Array(a.length) }), call: cb, take: (v, a, i, s) => { s.out[i] = v; return false; } }, (s) => s.out);
  loop('filter', { skipHoles: true, init: () => ({ out: [] }), call: cb, take: (v, a, i, s) => { if (v) s.out.push(a[i]); return false; } }, (s) => s.out);
  loop('flatMap', { skipHoles: true, init: () => ({ out: [] }), call: cb, take: (v, a, i, s) => { if (Array.isArray(v)) s.out.push(...v); else s.out.push(v); return false; } }, (s) => s.out);
  loop('some', { init: () => ({ r: false }), call: cb, take: (v, a, i, s) => (v ? (s.r = true) : false) }, (s) => s.r);
  loop('every', { init: () => ({ r: true }), call: cb, take: (v, a, i, s) => (!v ? !(s.r = false) : false) }, (s) => s.r);
  loop('find', { init: () => ({ r: undefined }), call: cb, take: (v, a, i, s) => (v ? ((s.r = a[i]), true) : false) }, (s) => s.r);
  loop('findIndex', { init: () => ({ r: -1 }), call: cb, take: (v, a, i, s) => (v ? ((s.r = i), true) : false) }, (s) => s.r);
  const reduce = (name, rev) => {
    const orig = AP[name];
    def(AP, name, function (fn, ...init) {
      if (typeof fn !== 'function') return orig.call(this, fn, ...init);
      const idx = [...this.keys()].filter((k) => k in this);
      if (rev) idx.reverse();
      let k = 0, acc;
      if (init.length) acc = init[0]; else { if (!idx.length) return orig.call(this, fn); acc = this[idx[k++]]; }
      for (; k < idx.length; k++) {
        const r = fn(acc, this[idx[k]], idx[k], this);
        if (then(r)) return (async () => { acc = await r; for (k++; k < idx.length; k++) acc = await fn(acc, this[idx[k]], idx[k], this); return acc; })();
        acc = r;
      }
      return acc;
    });
  };
  reduce('reduce', false);
  reduce('reduceRight', true);
  const sort = AP.sort;
  def(AP, 'sort', function (cmp) {
    if (typeof cmp !== 'function' || this.length < 2 || !then(cmp(this[0], this[1]))) return sort.call(this, cmp);
    const arr = this;
    const ms = async (a) => {
      if (a.length < 2) return a;
      const m = a.length >> 1, l = await ms(a.slice(0, m)), r = await ms(a.slice(m)), out = [];
      while (l.length && r.length) out.push((await cmp(l[0], r[0])) <= 0 ? l.shift() : r.shift());
      return out.concat(l, r);
    };
    return ms([...arr]).then((s) => { s.forEach((v, i) => { arr[i] = v; }); return arr; });
  });
  for (const name of ['replace', 'replaceAll']) {
    const orig = String.prototype[name];
    def(String.prototype, name, function (pat, fn) {
      if (typeof fn !== 'function') return orig.call(this, pat, fn);
      const calls = [];
      let async = false;
      orig.call(this, pat, (...args) => { const r = fn(...args); if (then(r)) async = true; calls.push(r); return ''; });
      if (!async) { let i = 0; return orig.call(this, pat, () => String(calls[i++])); }
      return Promise.all(calls).then((vals) => { let i = 0; return orig.call(this, pat, () => String(vals[i++])); });
    });
  }
  for (const C of [Map, Set]) {
    const orig = C.prototype.forEach;
    def(C.prototype, 'forEach', function (fn, t) {
      const items = [...this.entries()];
      for (let i = 0; i < items.length; i++) {
        const r = fn.call(t, items[i][1], items[i][0], this);
        if (then(r)) return (async () => { await r; for (i++; i < items.length; i++) await fn.call(t, items[i][1], items[i][0], this); })();
      }
      void orig;
    });
  }
})();`;
