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

/** Below this score no passage is a good match: the question is a knowledge gap (listed for admins). */
export const KB_MATCH_THRESHOLD = 0.05;
