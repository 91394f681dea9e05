import { Text } from 'ink';
import { cells, fit } from './format.ts';

const TOKEN = /(\*\*[^*]+\*\*|__[^_]+__|`[^`]+`|\*[^*\s][^*]*\*)/g;

interface Segment {
  text: string;
  style: 'plain' | 'bold' | 'code' | 'italic';
}

/** Splits inline markdown (`**bold**`, `` `code` ``, `*italic*`) into styled segments. Pure. */
export function inlineSegments(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    const at = match.index;
    if (at > last) out.push({ text: text.slice(last, at), style: 'plain' });
    if (token.startsWith('**') || token.startsWith('__'))
      out.push({ text: token.slice(2, -2), style: 'bold' });
    else if (token.startsWith('`')) out.push({ text: token.slice(1, -1), style: 'code' });
    else out.push({ text: token.slice(1, -1), style: 'italic' });
    last = at + token.length;
  }
  if (last < text.length) out.push({ text: text.slice(last), style: 'plain' });
  return out;
}

/**
 * A plan title with its inline markdown rendered as terminal styles (as the
 * web renders it), cut and padded to `width` cells of visible text.
 */
export function InlineMarkdown({ text, width }: { text: string; width: number }) {
  const segments = inlineSegments(text);
  const visible = segments.map((s) => s.text).join('');
  const shown = fit(visible, width);
  let left = [...shown].length;
  const parts = [];
  for (const [i, s] of segments.entries()) {
    if (left <= 0) break;
    const chars = [...s.text];
    const piece = chars.length <= left ? s.text : `${chars.slice(0, left - 1).join('')}…`;
    left -= Math.min(chars.length, left);
    parts.push(
      <Text
        key={i}
        bold={s.style === 'bold'}
        italic={s.style === 'italic'}
        color={s.style === 'code' ? 'cyan' : undefined}
      >
        {piece}
      </Text>,
    );
  }
  const pad = Math.max(0, width - cells(shown));
  return (
    <>
      {parts}
      {' '.repeat(pad)}
    </>
  );
}
