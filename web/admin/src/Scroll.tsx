import type { ReactNode } from 'react';

/**
 * A wide table's frame: on a narrow screen it scrolls sideways instead of running off the page, and
 * it takes keyboard focus so it can be scrolled without a mouse.
 */
export function Scroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
    <section className="scroll" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
