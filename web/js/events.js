// The live event stream: EventSource opened with a short-lived ticket
// (EventSource cannot send an Authorization header). When the stream ends or
// its ticket is no longer accepted, a new ticket is fetched and the stream
// resumes after the last event id seen, so nothing is missed.

import { api } from './api.js';

const TYPES = [
  'ready',
  'expired',
  'message.created',
  'thread.created',
  'thread.updated',
  'thread.read',
  'match.created',
  'match.status_changed',
  'case.opened',
  'case.updated',
  'notification',
];

export class LiveEvents {
  /**
   * @param {(type: string, data: any) => void} onEvent
   * @param {(state: 'connecting'|'open'|'down') => void} onState
   */
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.source = null;
    this.lastId = null;
    this.stopped = true;
    this.retryTimer = null;
    this.failures = 0;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }

  async open() {
    if (this.stopped) return;
    this.source?.close();
    this.source = null;
    this.onState('connecting');
    let ticket;
    try {
      ticket = (await api.post('/api/v1/events/ticket')).ticket;
    } catch {
      this.retry();
      return;
    }
    if (this.stopped) return;
    const query = { ticket };
    if (this.lastId) query.last_event_id = this.lastId;
    const source = new EventSource(api.url('/api/v1/events', query));
    this.source = source;
    for (const type of TYPES) {
      source.addEventListener(type, (ev) => this.dispatch(type, ev));
    }
    source.onerror = () => {
      // A stream that ended is retried by EventSource itself while the ticket
      // is valid; a refused one (ticket expired, server restarted) is CLOSED.
      if (source.readyState === EventSource.CLOSED) {
        this.retry();
      } else {
        this.onState('connecting');
      }
    };
  }

  retry() {
    if (this.stopped) return;
    this.source?.close();
    this.source = null;
    this.onState('down');
    this.failures += 1;
    const wait = Math.min(30_000, 1_000 * 2 ** Math.min(this.failures - 1, 5));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  dispatch(type, ev) {
    if (ev.lastEventId) this.lastId = ev.lastEventId;
    if (type === 'ready') {
      this.failures = 0;
      this.onState('open');
      return;
    }
    if (type === 'expired') {
      // The access token behind the ticket ran out: reopen with a fresh one.
      this.open();
      return;
    }
    let data = null;
    try {
      data = ev.data ? JSON.parse(ev.data) : null;
    } catch {
      return;
    }
    this.onEvent(type, data);
  }
}
