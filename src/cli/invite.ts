import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import type { Actor, Deps } from '../context.ts';
import { findContactIdsByEmails } from '../modules/contacts/contact.service.ts';
import { type BulkInput, type BulkItem, bulkInvite } from '../modules/invitations/invitation.bulk.ts';
import { findFirstAdmin, findUserByEmail } from '../modules/users/user.service.ts';
import { progressBar } from './progress.ts';

const CHUNK = 1000;

export interface InviteOptions {
  websiteId: string;
  contactIds?: string[];
  csv?: string;
  webRoleIds?: string[];
  assignToAccountId?: string;
  redemptionWorkflowId?: string;
  expiresAt?: string;
  ownerEmail?: string;
  send: boolean;
}

/**
 * `admit invite`: one Single invitation per contact (by id, or from a CSV with a contactId or email
 * column), created (and sent with --send) in chunks of a thousand, each chunk one transaction. The
 * CSV is streamed. Prints a progress bar and a summary; returns 1 when some contact was rejected.
 */
export async function invite(deps: Deps, o: InviteOptions, out: (line: string) => void): Promise<number> {
  const owner = o.ownerEmail ? await findUserByEmail(deps, o.ownerEmail) : await findFirstAdmin(deps);
  if (!owner)
    throw new Error(
      o.ownerEmail
        ? `No user with the email ${o.ownerEmail}.`
        : 'No administrator exists; create one with: admit users create',
    );
  const actor: Actor = { type: 'user', id: owner.id, ip: null };
  const base: Omit<BulkInput, 'contactIds'> = {
    websiteId: o.websiteId,
    webRoleIds: o.webRoleIds,
    assignToAccountId: o.assignToAccountId,
    redemptionWorkflowId: o.redemptionWorkflowId,
    expiresAt: o.expiresAt,
    ownerId: owner.id,
    send: o.send,
  };
  const totals = { created: 0, queued: 0, rejected: 0 };
  const rejected: BulkItem[] = [];
  const total = o.csv ? statSync(o.csv).size : (o.contactIds?.length ?? 0);
  const bar = progressBar(o.send ? 'Inviting and sending' : 'Inviting', total);
  const summary = () =>
    `${totals.created} created${o.send ? `, ${totals.queued} queued to send` : ''}, ${totals.rejected} rejected`;
  const run = async (contactIds: string[], notFound: string[], progress: number) => {
    for (const missing of notFound) {
      totals.rejected += 1;
      if (rejected.length < 20)
        rejected.push({ contactId: missing, status: 'rejected', detail: 'no contact has this email' });
    }
    if (contactIds.length === 0) return;
    const r = await bulkInvite(deps, actor, { ...base, contactIds });
    totals.created += r.created;
    totals.queued += r.queued;
    totals.rejected += r.rejected;
    for (const item of r.items) if (item.status === 'rejected' && rejected.length < 20) rejected.push(item);
    bar.update(progress, summary());
  };

  if (o.csv) {
    const input = createReadStream(o.csv);
    const rows = input.pipe(
      parse({
        columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
        skip_empty_lines: true,
        bom: true,
      }),
    );
    let ids: string[] = [];
    let emails: string[] = [];
    const flush = async () => {
      const byEmail = await findContactIdsByEmails(deps.db, emails);
      const fromEmails = emails.flatMap((e) => byEmail.get(e.toLowerCase()) ?? []);
      await run(
        [...ids, ...fromEmails],
        emails.filter((e) => !byEmail.has(e.toLowerCase())),
        input.bytesRead,
      );
      ids = [];
      emails = [];
    };
    for await (const row of rows as AsyncIterable<Record<string, string>>) {
      const id = (row.contactid ?? row.id ?? '').trim();
      const email = (row.email ?? '').trim();
      if (id) ids.push(id);
      else if (email) emails.push(email);
      if (ids.length + emails.length >= CHUNK) await flush();
    }
    await flush();
  } else {
    const all = o.contactIds ?? [];
    for (let i = 0; i < all.length; i += CHUNK)
      await run(all.slice(i, i + CHUNK), [], Math.min(all.length, i + CHUNK));
  }
  bar.done(summary());
  out(`Done: ${summary()}.`);
  for (const r of rejected) out(`  ${r.contactId}: ${r.detail ?? r.code}`);
  if (totals.rejected > rejected.length) out(`  … and ${totals.rejected - rejected.length} more`);
  return totals.rejected > 0 ? 1 : 0;
}
