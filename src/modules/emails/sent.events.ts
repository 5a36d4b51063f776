import type { Conn } from '../../db/database.ts';
import { type EventWindow, keyedEventId, type StoredEvent, type WindowSource } from '../events/event.ts';
import { findSentBetween } from './email.repository.ts';
import type { MessageSources } from './email.ts';

/**
 * The window sources of the events accepted emails publish (MessageSource.sentEvent), by event
 * type: a window's events are those of the emails of the kinds that publish it sent in the window,
 * each with an id derived from its email's (one event per email, however often it is derived).
 */
export function sentEventWindows(sources: MessageSources): Map<string, WindowSource> {
  const kindsOf = new Map<string, string[]>();
  for (const [kind, source] of sources)
    if (source.sentEvent)
      kindsOf.set(source.sentEvent.type, [...(kindsOf.get(source.sentEvent.type) ?? []), kind]);
  const windows = new Map<string, WindowSource>();
  for (const [type, kinds] of kindsOf)
    windows.set(type, async (conn: Conn, w: EventWindow): Promise<StoredEvent[]> => {
      const events: StoredEvent[] = [];
      for (const email of await findSentBetween(conn, kinds, w.from, w.to)) {
        const event = sources.get(email.kind)?.sentEvent?.of(email);
        if (event?.type === type)
          events.push({ id: keyedEventId(type, email.id), type, data: event.data, createdAt: email.sentAt });
      }
      return events;
    });
  return windows;
}
