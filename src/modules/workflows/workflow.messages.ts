import { type Contact, findContactsByIds } from '../contacts/contact.ts';
import type { MessageSource } from '../emails/email.ts';
import { getWebsite, type Website } from '../websites/website.ts';
import * as runs from './run.repository.ts';
import { emailIdOfStep } from './steps/send-email.ts';
import { type EmailTemplate, findTemplate, findVersion } from './workflow.repository.ts';
import { templateKey } from './workflow.service.ts';

/**
 * How a send-email step's email is composed when the delivery sends it: the email's source is its
 * run; the step (found by the email's id, emailIdOfStep) names the template, rendered with the
 * contact, the run's website and the run itself. Refused when the run, template or contact is gone.
 */
interface Context {
  templates: Map<string, EmailTemplate>;
  contacts: Map<string, Contact>;
  websites: Map<string, Website>;
  runs: Map<string, runs.WorkflowRun>;
}

export const workflowMessages: MessageSource<Context> = {
  async load(deps, emails) {
    const ctx: Context = { templates: new Map(), contacts: new Map(), websites: new Map(), runs: new Map() };
    for (const runId of new Set(emails.flatMap((e) => (e.sourceId ? [e.sourceId] : [])))) {
      const run = await runs.findRun(deps.db, runId);
      if (!run) continue;
      ctx.runs.set(runId, run);
      const version = await findVersion(deps.db, run.workflowId, run.workflowVersion);
      for (const [i, step] of (version?.steps ?? []).entries()) {
        if (step.type !== 'send-email') continue;
        const template = await findTemplate(deps.db, step.templateId);
        if (template) ctx.templates.set(emailIdOfStep(run, i), template);
      }
      if (run.websiteId && !ctx.websites.has(run.websiteId))
        ctx.websites.set(run.websiteId, await getWebsite(deps, run.websiteId));
    }
    const contactIds = [...new Set(emails.flatMap((e) => (e.contactId ? [e.contactId] : [])))];
    for (const c of await findContactsByIds(deps.db, contactIds)) ctx.contacts.set(c.id, c);
    return ctx;
  },

  compose(_deps, email, ctx) {
    const run = email.sourceId ? ctx.runs.get(email.sourceId) : undefined;
    const template = ctx.templates.get(email.id);
    const contact = email.contactId ? ctx.contacts.get(email.contactId) : undefined;
    if (!run || !template) return { refused: 'TEMPLATE_GONE: the run or its email template was deleted' };
    if (!contact) return { refused: 'CONTACT_GONE: the contact was deleted' };
    const website = run.websiteId ? ctx.websites.get(run.websiteId) : undefined;
    return {
      templateKey: templateKey(template),
      template,
      vars: {
        contact: {
          firstName: contact.firstName,
          lastName: contact.lastName,
          fullName: `${contact.firstName} ${contact.lastName}`.trim(),
          email: contact.email,
        },
        website: website ? { name: website.name, baseUrl: website.baseUrl } : null,
        workflowRun: { id: run.id, trigger: run.trigger },
      },
      secrets: [],
      mask: '',
    };
  },
};
