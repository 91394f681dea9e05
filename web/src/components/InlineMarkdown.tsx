import type { ReactNode } from 'react';

const TOKEN = /(\*\*[^*]+\*\*|__[^_]+__|`[^`]+`|\*[^*\s][^*]*\*)/g;

/**
 * Plan titles carry inline markdown ("**Store**", "`cli`"): shown as React
 * elements, never parsed as HTML, so nothing in a title can run.
 */
export function InlineMarkdown({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    const at = match.index;
    if (at > last) parts.push(text.slice(last, at));
    if (token.startsWith('**') || token.startsWith('__'))
      parts.push(<strong key={at}>{token.slice(2, -2)}</strong>);
    else if (token.startsWith('`')) parts.push(<code key={at}>{token.slice(1, -1)}</code>);
    else parts.push(<em key={at}>{token.slice(1, -1)}</em>);
    last = at + token.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}
