import MailComposer from 'nodemailer/lib/mail-composer';
import { compiledFor, type Rendered, render, type TemplateSource } from './liquid.ts';
import { nodemailerMessage } from './mailer.ts';

/**
 * Composition of one templated message, the CPU-heavy part of sending: render the Liquid template,
 * build the MIME message, and a copy of the rendering with secrets masked for storage. Pure: it runs
 * in a worker thread (composer.ts) or inline.
 */
export interface ComposeRequest {
  /** Cache key of the template version, e.g. `${id}:${updatedAt}`. */
  templateKey: string;
  template: TemplateSource;
  vars: Record<string, unknown>;
  envelope: { messageId: string; from: string; to: string };
  /** Strings replaced by `mask` in the stored copy (every spelling of a code). */
  secrets: string[];
  mask: string;
}

export interface Composed {
  /** The whole RFC 5322 message, as it goes on the wire. */
  raw: Uint8Array;
  /** The rendering with every secret masked: what the database keeps. */
  stored: Rendered;
}

export const maskAll = (text: string, secrets: readonly string[], mask: string): string => {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(mask);
  return out;
};

export async function compose(r: ComposeRequest): Promise<Composed> {
  const rendered = render(compiledFor(r.templateKey, r.template), r.vars);
  const raw = await new MailComposer(nodemailerMessage({ ...r.envelope, ...rendered })).compile().build();
  const stored = {
    subject: maskAll(rendered.subject, r.secrets, r.mask),
    html: maskAll(rendered.html, r.secrets, r.mask),
    text: maskAll(rendered.text, r.secrets, r.mask),
  };
  return { raw: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), stored };
}
