/** Currency of a tenant locale (the tenant table has no currency yet: Brazilian tenants bill in BRL). */
const CURRENCY: Record<string, string> = { 'pt-BR': 'BRL', 'es-MX': 'MXN', 'en-GB': 'GBP' };

export function formatMoney(cents: number | null, locale: string): string {
  if (cents === null) return '';
  return new Intl.NumberFormat(locale, { style: 'currency', currency: CURRENCY[locale] ?? 'USD' }).format(cents / 100);
}

/** `2026-12-01` in the locale's short date style, without time-zone shifts (a calendar date is not an instant). */
export function formatDate(isoDate: string | null, locale: string): string {
  if (!isoDate) return '';
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  return new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}
