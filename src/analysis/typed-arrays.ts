/** A copy of a typed array with room for `cap` elements: column builders double their capacity with it. */
export function grown<T extends Float64Array | Float32Array | Uint16Array | Uint8Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}
