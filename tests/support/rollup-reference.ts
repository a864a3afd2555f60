/** A gauge window's fields as InfluxDB holds them (`value_<field>`), computed the obvious way. */
export type ReferenceWindow = {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  mean: number;
};

/**
 * Adds one finite point to the window `key` of `windows` (points in time order per series):
 * the independent reference rollup tests compare promflux's windows with.
 */
export function addToWindow(
  windows: Map<string, ReferenceWindow>,
  key: string,
  value: number,
): void {
  const w = windows.get(key) ?? {
    count: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    last: NaN,
    mean: NaN,
  };
  w.count += 1;
  w.sum += value;
  w.min = Math.min(w.min, value);
  w.max = Math.max(w.max, value);
  w.last = value;
  w.mean = w.sum / w.count;
  windows.set(key, w);
}
