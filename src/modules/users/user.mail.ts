import type { Deps } from '../../context.ts';
import type { Conn } from '../../db/database.ts';
import { enqueue } from '../../jobs/enqueue.ts';
import { deliveryJobs, insertEmails, type MessageSource, newEmail } from '../emails/email.ts';
import type { User } from './user.repository.ts';
import * as repo from './user.repository.ts';
import {
  findOpenUserTokenById,
  type OpenUserToken,
  setPasswordLink,
  type UserTokenPurpose,
  userTokenFor,
} from './user.tokens.ts';

/** The email kinds of back-office users: the invitation to the console and the password reset. */
export const USER_EMAIL_KINDS = {
  invite: 'user-invitation',
  'reset-password': 'user-reset-password',
} as const;

const TEMPLATES = {
  invite: {
    subject: 'You are invited to the Admit console',
    html: `<p>Hello {{ user.name }},</p>
<p>{{ inviter }} gave you access to the Admit console as {{ role }}. Choose your password within a week:</p>
<p><a href="{{ link }}">Set my password</a></p>
<p>Or open this link: {{ link }}</p>
<p>Then sign in with {{ user.email }}.</p>`,
    text: `Hello {{ user.name }},

{{ inviter }} gave you access to the Admit console as {{ role }}. Choose your password within a week:
{{ link }}

Then sign in with {{ user.email }}.`,
  },
  'reset-password': {
    subject: 'Reset your password for the Admit console',
    html: `<p>Hello {{ user.name }},</p>
<p>Someone asked to reset the password of your Admit console account. To choose a new password, open this link within an hour:</p>
<p><a href="{{ link }}">Choose a new password</a></p>
<p>Or open this link: {{ link }}</p>
<p>If it was not you, ignore this message: your password stays as it is.</p>`,
    text: `Hello {{ user.name }},

Someone asked to reset the password of your Admit console account. To choose a new password, open this link within an hour:
{{ link }}

If it was not you, ignore this message: your password stays as it is.`,
  },
} as const;

/** Queues the email of token `tokenId` to `user`, inside the caller's transaction. */
export async function queueUserEmail(
  trx: Conn,
  deps: Deps,
  user: User,
  purpose: UserTokenPurpose,
  tokenId: string,
): Promise<void> {
  const now = deps.now();
  const email = newEmail(
    deps,
    {
      kind: USER_EMAIL_KINDS[purpose],
      sourceId: tokenId,
      invitationId: null,
      contactId: null,
      to: user.email,
      from: deps.config.mailFrom,
    },
    now.toISOString(),
  );
  await insertEmails(trx, [email]);
  await enqueue(trx, now, deliveryJobs([email.id]));
}

interface Context {
  tokens: Map<string, OpenUserToken>;
  users: Map<string, User>;
}

/**
 * Composes the users' emails, the link in them masked in the stored copy. Refused (never sent): a
 * link that was used or expired before it went out, a disabled user, and an address that is no
 * longer the user's.
 */
export const userMessages: MessageSource<Context> = {
  async load(deps, emails) {
    const tokens = new Map<string, OpenUserToken>();
    const users = new Map<string, User>();
    for (const e of emails) {
      const token = e.sourceId ? await findOpenUserTokenById(deps.db, e.sourceId, deps.now()) : null;
      if (!token) continue;
      tokens.set(e.id, token);
      if (!users.has(token.userId)) {
        const user = await repo.findUser(deps.db, token.userId);
        if (user) users.set(user.id, user);
      }
    }
    return { tokens, users };
  },
  compose(deps, email, ctx) {
    const token = ctx.tokens.get(email.id);
    const user = token && ctx.users.get(token.userId);
    if (!token || !user) return { refused: 'TOKEN_NOT_VALID: the link has expired or was used' };
    if (user.disabled) return { refused: 'USER_DISABLED' };
    if (user.email.toLowerCase() !== email.to.toLowerCase())
      return { refused: "ADDRESS_CHANGED: the address is no longer the user's" };
    const link = setPasswordLink(deps, token.id);
    return {
      templateKey: `builtin:${email.kind}:1`,
      template: TEMPLATES[token.purpose],
      vars: {
        user: { name: user.name, email: user.email },
        role: user.role === 'admin' ? 'an administrator' : 'an operator',
        inviter: 'An administrator',
        link,
      },
      secrets: [userTokenFor(deps, token.id)],
      mask: '[token]',
    };
  },
};
