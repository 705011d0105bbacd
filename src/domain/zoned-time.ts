/** Offset (ms) of `timeZone` from UTC at `instant`: wall clock read as if UTC, minus the instant. */
function zoneOffsetMs(timeZone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return (
    Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) -
    Math.floor(instant / 1000) * 1000
  );
}

/** The instant a local wall-clock time happens in `timeZone` (two passes settle DST changes). */
function zonedWallClockToUtc(timeZone: string, year: number, month: number, day: number, seconds = 0): number {
  const wall = Date.UTC(year, month - 1, day) + seconds * 1000;
  let guess = wall - zoneOffsetMs(timeZone, wall);
  guess = wall - zoneOffsetMs(timeZone, guess);
  return guess;
}

/** The last millisecond of calendar date `YYYY-MM-DD` in `timeZone`: a promise "by the 10th" is due then. */
export function endOfLocalDay(isoDate: string, timeZone: string): number {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return zonedWallClockToUtc(timeZone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()) - 1;
}
