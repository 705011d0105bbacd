/**
 * Issue 23 D: a knowledge base article (Markdown) cut into passages: one per paragraph or list, grouped up to about
 * 700 characters, each prefixed with the article title and its section heading so a passage stands on its own in a
 * prompt and its words count for retrieval.
 */
export interface ParsedArticle {
  title: string;
  passages: string[];
}

const MAX_PASSAGE = 700;

export function parseArticle(markdown: string, fallbackTitle: string): ParsedArticle {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  let title = fallbackTitle;
  let heading = '';
  const blocks: { heading: string; text: string }[] = [];
  let current: string[] = [];
  const flush = () => {
    const text = current.join(' ').replace(/\s+/g, ' ').trim();
    if (text) blocks.push({ heading, text });
    current = [];
  };
  for (const line of lines) {
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      if (h[1] === '#' && title === fallbackTitle && blocks.length === 0) title = h[2]!.trim();
      else heading = h[2]!.trim();
    } else if (line.trim() === '') flush();
    else current.push(line.trim());
  }
  flush();
  const passages: string[] = [];
  let group = '';
  let groupHeading = '';
  for (const block of blocks) {
    if (group && (block.heading !== groupHeading || group.length + block.text.length > MAX_PASSAGE)) {
      passages.push(group);
      group = '';
    }
    groupHeading = block.heading;
    const prefix = `${title}${block.heading ? ` — ${block.heading}` : ''}: `;
    group = group ? `${group} ${block.text}` : `${prefix}${block.text}`;
  }
  if (group) passages.push(group);
  return { title, passages };
}

/** A slug from a file name: `Segunda via.md` → `segunda-via`. */
export function articleSlug(fileName: string): string {
  return fileName
    .replace(/\.[^.]+$/, '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}

/** Trigram word similarity at which a passage matches without sharing a stemmed word (typos); below: a gap. */
export const KB_TRIGRAM_MATCH = 0.5;

/** Passages given to one turn (their articles' ids are what a reply cites). */
export const KB_PASSAGES_PER_TURN = 3;

export class KbInputError extends Error {
  override readonly name = 'KbInputError';
}

/** An article as `kb add` and the API take it: a Markdown file's name and text, checked and cut into passages. */
export function articleFromFile(fileName: string, markdown: string, slugOverride?: string) {
  const slug = slugOverride ?? articleSlug(fileName.split(/[\\/]/).pop() ?? fileName);
  if (!/^[a-z0-9][a-z0-9-]{0,79}$/.test(slug)) throw new KbInputError(`invalid article id "${slug}" (a-z, 0-9 and -)`);
  if (Buffer.byteLength(markdown) > 200_000) throw new KbInputError('an article is at most 200 KB of Markdown');
  const parsed = parseArticle(markdown, slug);
  if (parsed.passages.length === 0) throw new KbInputError('the article has no text');
  return { slug, title: parsed.title.slice(0, 200), body: markdown, passages: parsed.passages };
}
