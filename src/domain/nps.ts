export type NpsCategory = 'detractor' | 'neutral' | 'promoter';

/** An NPS answer is a whole message that is just a number 0–10 (a trailing "!" or "." allowed). */
export function parseNpsScore(text: string): number | null {
  const match = /^\s*(10|[0-9])\s*[.!]?\s*$/.exec(text);
  return match ? Number(match[1]) : null;
}

/** 0–6 detractor, 7–8 neutral ("passive"), 9–10 promoter. */
export function npsCategory(score: number): NpsCategory {
  if (score <= 6) return 'detractor';
  if (score <= 8) return 'neutral';
  return 'promoter';
}
