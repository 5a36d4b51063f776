import { useEffect, useRef, useState } from 'react';

/** A question the console asks before an action: its title, what follows, and the button's words. */
export interface Question {
  title: string;
  detail?: string;
  /** The confirming button, saying what it does ("Delete", "Regenerate"); default "OK". */
  confirm?: string;
  /** A destructive action's button is drawn as a warning. */
  danger?: boolean;
}

let ask: ((q: Question) => Promise<boolean>) | null = null;

const DANGER = new Set(['Delete', 'Remove', 'Deactivate', 'Disable', 'Regenerate']);
const VERBS = new Set([...DANGER, 'Run', 'Reveal', 'Rotate', 'Send', 'Replay']);

/**
 * A question written as one sentence ("Delete the key ci? Anything using it stops working."): the
 * title up to its question mark, the rest as the detail, the button named by its first word when
 * that is the action ("Delete"), drawn as a warning for what cannot be taken back.
 */
export function questionOf(text: string): Question {
  const end = text.indexOf('?');
  const title = end >= 0 ? text.slice(0, end + 1) : text;
  const detail = end >= 0 ? text.slice(end + 1).trim() : '';
  const verb = title.split(/\s/)[0] ?? '';
  return {
    title,
    ...(detail ? { detail } : {}),
    ...(VERBS.has(verb) ? { confirm: verb } : {}),
    danger: DANGER.has(verb),
  };
}

/**
 * Asks before an action, in the console's one modal dialog (a native <dialog>: focus moves into it
 * and stays, Escape cancels, the page behind is inert). Resolves true on the confirming button,
 * false on Cancel or Escape. Needs <ConfirmHost /> mounted (App does it).
 */
export function confirmAction(q: Question | string): Promise<boolean> {
  const question = typeof q === 'string' ? questionOf(q) : q;
  if (!ask) return Promise.resolve(false);
  return ask(question);
}

/** The one dialog that confirmAction shows; mount it once. */
export function ConfirmHost() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [question, setQuestion] = useState<Question | null>(null);
  const answer = useRef<(yes: boolean) => void>(() => undefined);
  useEffect(() => {
    ask = (q) =>
      new Promise<boolean>((resolve) => {
        answer.current(false);
        answer.current = resolve;
        setQuestion(q);
      });
    return () => {
      ask = null;
    };
  }, []);
  useEffect(() => {
    if (question && !dialog.current?.open) dialog.current?.showModal();
  }, [question]);
  const close = (yes: boolean) => {
    dialog.current?.close();
    setQuestion(null);
    const resolve = answer.current;
    answer.current = () => undefined;
    resolve(yes);
  };
  return (
    <dialog
      ref={dialog}
      aria-labelledby="confirm-title"
      aria-describedby={question?.detail ? 'confirm-detail' : undefined}
      onCancel={(e) => {
        e.preventDefault();
        close(false);
      }}
    >
      <h2 id="confirm-title">{question?.title}</h2>
      {question?.detail && <p id="confirm-detail">{question.detail}</p>}
      <div className="row">
        <button type="button" className={question?.danger ? 'danger' : undefined} onClick={() => close(true)}>
          {question?.confirm ?? 'OK'}
        </button>
        <button type="button" className="secondary" onClick={() => close(false)}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
