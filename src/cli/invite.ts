import { createReadStream } from 'node:fs';
import type { Actor, Deps } from '../context.ts';
import { checkOpenInvitations } from '../modules/invitations/invitation.bulk.ts';
import { type BulkSource, startBulkInvite } from '../modules/invitations/invitation.operation.ts';
import { getOperation, type OperationView } from '../modules/operations/operation.service.ts';
import { findFirstAdmin, findUserByEmail } from '../modules/users/user.service.ts';
import { progressBar } from './progress.ts';

export interface InviteOptions {
  websiteId: string;
  contactIds?: string[];
  csv?: string;
  /** Every contact matching this search ('' for all contacts). */
  matching?: string;
  webRoleIds?: string[];
  assignToAccountId?: string;
  redemptionWorkflowId?: string;
  expiresAt?: string;
  ownerEmail?: string;
  send: boolean;
  /** Skip the contacts that already hold an open invitation to the website. */
  skipInvited?: boolean;
  /** Print the operation's id and return without waiting for it. */
  detach?: boolean;
}

/** How often the CLI reads an operation's progress. */
const POLL_MS = 500;
/** After this long still queued, the CLI says that a server or worker must run it. */
const UNCLAIMED_NOTICE_MS = 10_000;

/**
 * `admit invite`: one Single invitation per contact (by id, from a CSV, or every contact matching a
 * search) as a bulk operation, which a running `admit serve` or `admit worker` does; the CLI shows
 * its progress until it is done (Ctrl-C leaves it running) and prints a summary with the first
 * failures. Returns 0, or 1 when some contact was not invited (or the operation failed).
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
  const source: BulkSource = o.csv
    ? { csv: createReadStream(o.csv) }
    : o.matching !== undefined
      ? { matching: { search: o.matching } }
      : { contactIds: o.contactIds ?? [] };
  if (!o.csv) {
    const check = await checkOpenInvitations(
      deps,
      o.websiteId,
      o.matching !== undefined ? { matching: { search: o.matching } } : { contactIds: o.contactIds ?? [] },
    );
    if (check.alreadyInvited > 0)
      out(
        `${check.alreadyInvited} of these contacts already ${check.alreadyInvited === 1 ? 'holds' : 'hold'} an open invitation to this website: ${
          o.skipInvited ? 'they are skipped.' : 'they are invited again (--skip-invited skips them).'
        }`,
      );
  }
  const started = await startBulkInvite(
    deps,
    actor,
    {
      websiteId: o.websiteId,
      webRoleIds: o.webRoleIds,
      assignToAccountId: o.assignToAccountId,
      redemptionWorkflowId: o.redemptionWorkflowId,
      expiresAt: o.expiresAt,
      ownerId: owner.id,
      send: o.send,
      skipInvited: o.skipInvited === true,
    },
    source,
  );
  out(`Operation ${started.id}: ${started.total} contacts to invite.`);
  if (o.detach) {
    out(`Follow it with: admit operations show ${started.id}`);
    return 0;
  }
  const op = await watchOperation(deps, started, o.send ? 'Inviting and sending' : 'Inviting', out);
  return op.failed > 0 || op.status === 'failed' ? 1 : 0;
}

/** One line with an operation's counts. */
export function summaryOf(op: OperationView): string {
  if (op.kind === 'contacts.import')
    return `${op.created} created, ${op.skipped} skipped (email already known), ${op.failed} failed`;
  const queued = (op.input as { send?: boolean }).send ? `, ${op.queued} queued to send` : '';
  return `${op.created} created${queued}, ${op.failed} not invited`;
}

/**
 * Shows an operation's progress until it is done, then prints its summary and first failures;
 * returns it as it ended.
 */
export async function watchOperation(
  deps: Deps,
  start: OperationView,
  label: string,
  out: (line: string) => void,
): Promise<OperationView> {
  const bar = progressBar(label, start.total);
  const since = Date.now();
  let noticed = false;
  let op = start;
  while (op.status === 'queued' || op.status === 'running') {
    await new Promise((r) => setTimeout(r, POLL_MS));
    op = await getOperation(deps, op.id);
    bar.update(op.done, summaryOf(op));
    if (!noticed && op.status === 'queued' && Date.now() - since > UNCLAIMED_NOTICE_MS) {
      noticed = true;
      process.stderr.write(
        `\nStill queued: the operation runs in \`admit serve\` or \`admit worker\`; start one (Ctrl-C here leaves the operation queued).\n`,
      );
    }
  }
  bar.done(summaryOf(op));
  out(op.status === 'failed' ? `Failed: ${op.error}` : `Done: ${summaryOf(op)}.`);
  for (const f of op.failures.slice(0, 20)) out(`  ${f.position}${f.item ? ` ${f.item}` : ''}: ${f.detail}`);
  if (op.failed > Math.min(20, op.failures.length))
    out(
      `  … and ${op.failed - Math.min(20, op.failures.length)} more (GET /api/v1/operations/${op.id}/failures)`,
    );
  return op;
}

/** `admit operations show ID [--wait]`: the operation now, or followed until it is done. */
export async function showOperation(
  deps: Deps,
  id: string,
  wait: boolean,
  out: (line: string) => void,
): Promise<number> {
  let op = await getOperation(deps, id);
  out(`Operation ${op.id} (${op.kind}): ${op.status}, ${op.done} of ${op.total} done.`);
  if (wait) op = await watchOperation(deps, op, 'Waiting', out);
  else {
    out(`${summaryOf(op)}.${op.error ? ` ${op.error}` : ''}`);
    for (const f of op.failures.slice(0, 20))
      out(`  ${f.position}${f.item ? ` ${f.item}` : ''}: ${f.detail}`);
  }
  return op.failed > 0 || op.status === 'failed' ? 1 : 0;
}
