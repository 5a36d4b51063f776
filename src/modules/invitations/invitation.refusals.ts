import type { Actor, Deps } from '../../context.ts';
import { countCodeRefusal, currentWindowStart } from '../../http/rate-limit.ts';
import { recordAggregateAudit } from '../events/event.ts';
import type { Refusal } from './invitation.rules.ts';

/**
 * A refused attempt on an existing invitation (an expired, used-up, inactive or other website's
 * invitation, or a contact it is not for). The person sees only the uniform message; the audit trail
 * keeps one `invitation.redemption_refused` event per invitation and minute, counting the attempts
 * by reason, and the invitation's per-code rate limit counts it. Written after the refused attempt,
 * whose own transaction left nothing. Throws RATE_LIMITED once the invitation's refusals this minute
 * pass the per-code limit.
 */
export async function recordRefusal(
  deps: Deps,
  refusal: { invitationId: string; reason: Refusal },
  actor: Actor,
): Promise<void> {
  const { count, limited } = await countCodeRefusal(deps, refusal.invitationId);
  await recordAggregateAudit(
    deps,
    actor,
    'invitation.redemption_refused',
    { type: 'invitation', id: refusal.invitationId },
    currentWindowStart(deps),
    (previous) => {
      const reasons = { ...((previous?.reasons as Record<string, number> | undefined) ?? {}) };
      reasons[refusal.reason] = (reasons[refusal.reason] ?? 0) + 1;
      return { attempts: Math.max(count, Number(previous?.attempts ?? 0) + 1), reasons };
    },
  );
  if (limited) throw limited;
}
