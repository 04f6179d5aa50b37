/**
 * Durations in milliseconds of virtual time, with Flink's two spellings:
 * `Time.seconds(10)` (DataStream API, deprecated in Flink 1.19+) and `Duration.ofSeconds(10)`.
 */
export type Millis = number;

function ms(n: number, unit: number, who: string): Millis {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${who}: ${n} is not a non-negative finite number`);
  return Math.round(n * unit);
}

export const Time = {
  milliseconds: (n: number): Millis => ms(n, 1, "Time.milliseconds"),
  seconds: (n: number): Millis => ms(n, 1_000, "Time.seconds"),
  minutes: (n: number): Millis => ms(n, 60_000, "Time.minutes"),
  hours: (n: number): Millis => ms(n, 3_600_000, "Time.hours"),
  days: (n: number): Millis => ms(n, 86_400_000, "Time.days"),
} as const;

export const Duration = {
  ofMillis: Time.milliseconds,
  ofSeconds: Time.seconds,
  ofMinutes: Time.minutes,
  ofHours: Time.hours,
  ofDays: Time.days,
  ZERO: 0 as Millis,
} as const;

const UNITS: Record<string, number> = {
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** Parses Flink's duration syntax ("10 s", "1min", "500 ms", or a bare number of ms). */
export function parseDuration(v: string | number, what: string): Millis {
  if (typeof v === "number") return ms(v, 1, what);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = m ? (m[2] === "" ? 1 : UNITS[m[2].toLowerCase()]) : undefined;
  if (!m || unit === undefined) throw new RangeError(`${what}: cannot parse duration ${JSON.stringify(v)} (try "10 s", "1 min", "500 ms")`);
  return ms(Number(m[1]), unit, what);
}
