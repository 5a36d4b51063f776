import MimeNode from 'nodemailer/lib/mime-node';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { randomToken } from '../random.ts';
import { compiledFor, type Rendered, render, type TemplateSource } from './liquid.ts';
import { headerSafe } from './mailer.ts';

/**
 * Composition of one templated message, the CPU-heavy part of sending: render the Liquid template,
 * build the MIME message, and a copy of the rendering with secrets masked for storage. Pure: it runs
 * on a mail thread (mail.ts) or inline. A request is self-contained: it carries its template.
 */
export interface ComposeRequest {
  /** The template version, e.g. `${id}:${updatedAt}`: the same key means the same parts. */
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

export function compose(r: ComposeRequest): Composed {
  const rendered = render(compiledFor(r.templateKey, r.template), r.vars);
  const raw = buildMessage({ ...r.envelope, ...rendered });
  const stored = {
    subject: maskAll(rendered.subject, r.secrets, r.mask),
    html: maskAll(rendered.html, r.secrets, r.mask),
    text: maskAll(rendered.text, r.secrets, r.mask),
  };
  return { raw: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), stored };
}

export interface OutgoingMessage {
  /** Our own Message-ID, `<id@domain>`, stored on the Email record before the first attempt. */
  messageId: string;
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
}

/**
 * The message: multipart/alternative, a text and an HTML part, each UTF-8 quoted-printable with CRLF
 * line breaks. The header block is nodemailer's (MimeNode: address parsing and encoding, RFC 2047
 * words, folding, Date, MIME-Version, the boundary); the parts are put together here with
 * nodemailer's quoted-printable encoder, not with MailComposer's tree of streamed nodes (the
 * sending-performance record, decision 0021, says what that costs).
 */
export function buildMessage(m: OutgoingMessage): Buffer {
  const root = new MimeNode('multipart/alternative', {
    baseBoundary: randomToken(12),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  root.setHeader({ From: m.from, To: m.to, Subject: headerSafe(m.subject), 'Message-ID': m.messageId });
  const head = root.buildHeaders();
  const b = root.boundary as string;
  const part = (type: string, body: string) =>
    `--${b}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qpWrap(qpEncode(body.replace(/\r?\n|\r/g, '\r\n')), 76)}\r\n`;
  return Buffer.from(`${head}\r\n\r\n${part('text/plain', m.text)}${part('text/html', m.html)}--${b}--\r\n`);
}
