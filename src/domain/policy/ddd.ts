/**
 * Brazilian area codes (DDD, Anatel's Plano Geral de Códigos Nacionais) → state (UF). All 67 codes in use.
 * A DDD names the state where the line was issued: the recipient's jurisdiction for contact hours, absent better
 * knowledge (a contact's own time zone narrows the clock, never the law that applies).
 */
export type Uf =
  | 'AC'
  | 'AL'
  | 'AM'
  | 'AP'
  | 'BA'
  | 'CE'
  | 'DF'
  | 'ES'
  | 'GO'
  | 'MA'
  | 'MG'
  | 'MS'
  | 'MT'
  | 'PA'
  | 'PB'
  | 'PE'
  | 'PI'
  | 'PR'
  | 'RJ'
  | 'RN'
  | 'RO'
  | 'RR'
  | 'RS'
  | 'SC'
  | 'SE'
  | 'SP'
  | 'TO';

const BY_STATE: Record<Uf, number[]> = {
  AC: [68],
  AL: [82],
  AM: [92, 97],
  AP: [96],
  BA: [71, 73, 74, 75, 77],
  CE: [85, 88],
  DF: [61],
  ES: [27, 28],
  GO: [62, 64],
  MA: [98, 99],
  MG: [31, 32, 33, 34, 35, 37, 38],
  MS: [67],
  MT: [65, 66],
  PA: [91, 93, 94],
  PB: [83],
  PE: [81, 87],
  PI: [86, 89],
  PR: [41, 42, 43, 44, 45, 46],
  RJ: [21, 22, 24],
  RN: [84],
  RO: [69],
  RR: [95],
  RS: [51, 53, 54, 55],
  SC: [47, 48, 49],
  SE: [79],
  SP: [11, 12, 13, 14, 15, 16, 17, 18, 19],
  TO: [63],
};

export const DDD_TO_UF: ReadonlyMap<number, Uf> = new Map(
  Object.entries(BY_STATE).flatMap(([uf, ddds]) => ddds.map((ddd): [number, Uf] => [ddd, uf as Uf])),
);

/** The DDD of a Brazilian E.164 number (+55 DD …), or null for any other number. */
export function dddOf(e164: string): number | null {
  const match = /^\+55(\d{2})\d{8,9}$/.exec(e164);
  return match ? Number(match[1]) : null;
}

/** The state of a Brazilian E.164 number by its DDD; null for a foreign number or a DDD not in use. */
export function stateOf(e164: string): Uf | null {
  const ddd = dddOf(e164);
  return ddd === null ? null : (DDD_TO_UF.get(ddd) ?? null);
}
