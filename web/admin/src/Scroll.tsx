import { type ReactNode, useLayoutEffect, useRef } from 'react';

/** What a header cell says: its text, else "Select" for a column of checkboxes. */
const headerText = (th: Element) =>
  th.textContent?.trim() || (th.querySelector('input[type="checkbox"]') ? 'Select' : '');

/**
 * A table's frame. On a wide screen the table is a table (scrolling sideways if it must, and
 * focusable so it can be scrolled without a mouse); on a phone each row becomes a card whose cells
 * are labelled with their column's header (`data-label`, kept in step with the headers on every
 * render), so no column is cut off. The table roles are set explicitly, so assistive technology
 * still reads a table when the cards change its display.
 */
export function Scroll({ label, children }: { label: string; children: ReactNode }) {
  const frame = useRef<HTMLElement>(null);
  useLayoutEffect(() => {
    for (const table of frame.current?.querySelectorAll('table') ?? []) {
      table.setAttribute('role', 'table');
      const headers = [...table.querySelectorAll('thead th')].map(headerText);
      for (const th of table.querySelectorAll('th')) th.setAttribute('role', 'columnheader');
      for (const tr of table.querySelectorAll('tr')) tr.setAttribute('role', 'row');
      for (const tr of table.querySelectorAll('tbody tr')) {
        let column = 0;
        for (const td of tr.children) {
          if (td.tagName !== 'TD') continue;
          td.setAttribute('role', 'cell');
          const span = (td as HTMLTableCellElement).colSpan;
          if (span === 1 && headers[column]) td.setAttribute('data-label', headers[column] as string);
          column += span;
        }
      }
    }
  });
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
    <section ref={frame} className="scroll" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
