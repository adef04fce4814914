// The page's WebSocket to the relay that served it: same host, the page's own ?token= passed on (the relay
// checks it on the upgrade), requests correlated by id, frame-log subscriptions kept across reconnects.
//
// A read can be cancelled (harness/relay/README.md, v1 `cancel`): aborting the AbortSignal given to request()
// sends {"type":"cancel","id"} once, and the read's one answer is then the relay's `error` CANCELLED (or, when the
// answer and the cancel crossed, the answer itself). The relay answers a cancel of a read it no longer has with
// BAD_REQUEST *without* an id, so that it cannot be taken for the read's answer; messages without an id are
// nobody's answer here and are dropped. Reads waiting when the socket closes end DISCONNECTED, as before: the
// relay withdraws a departed client's reads itself, so no cancel is needed (or possible) then.

const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 5000;
/** A request not answered in this long fails with TIMEOUT (the relay's own read limit is 15 s). */
const REQUEST_TIMEOUT_MS = 30_000;

/** The WebSocket URL for this page: ws(s)://same host/, with the page's token. */
export function relaySocketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const token = new URLSearchParams(location.search).get('token');
  return `${scheme}://${location.host}/${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
}

export class RelayConnection {
  /**
   * @param {{ onStatus?: (status: 'connecting'|'connected'|'disconnected') => void,
   *           onOpen?: () => void }} handlers
   */
  constructor(handlers = {}) {
    this.handlers = handlers;
    this.socket = undefined;
    this.pending = new Map(); // id → { resolve, done } (done: stop its timer and abort listener)
    this.subscriptions = new Map(); // id → { request, onFrame, onClosed }
    this.nextId = 1;
    this.retryMs = RECONNECT_FIRST_MS;
  }

  connect() {
    this.handlers.onStatus?.('connecting');
    const socket = new WebSocket(relaySocketUrl());
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = RECONNECT_FIRST_MS;
      this.handlers.onStatus?.('connected');
      for (const sub of this.subscriptions.values()) this.#send(sub.request);
      this.handlers.onOpen?.();
    });
    socket.addEventListener('message', (event) => this.#onMessage(event.data));
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.handlers.onStatus?.('disconnected');
      for (const [id, p] of this.pending) {
        p.done();
        p.resolve({ type: 'error', id, code: 'DISCONNECTED', message: 'the connection to the relay closed' });
      }
      this.pending.clear();
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(RECONNECT_MAX_MS, this.retryMs * 2);
    });
  }

  get connected() {
    return this.socket !== undefined && this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a request (an id is added) and resolves with its answer, an `error` message included. For a `read`,
   * aborting `signal` cancels it: before it is sent it is answered CANCELLED here and never sent; once sent, the
   * relay is asked to withdraw it and its answer (CANCELLED, or what crossed the cancel) resolves the promise.
   * @param {object} message
   * @param {{ signal?: AbortSignal }} [options]
   */
  request(message, { signal } = {}) {
    const id = `c${this.nextId++}`;
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve({ type: 'error', id, code: 'CANCELLED', message: 'cancelled before it was sent' });
        return;
      }
      if (!this.connected) {
        resolve({ type: 'error', id, code: 'DISCONNECTED', message: 'not connected to the relay' });
        return;
      }
      let cancelSent = false;
      const cancel = () => {
        if (cancelSent || !this.pending.has(id)) return; // one cancel per read, and none after its answer
        cancelSent = true;
        this.#send({ type: 'cancel', id });
      };
      const timer = setTimeout(() => {
        this.pending.get(id)?.done();
        this.pending.delete(id);
        resolve({ type: 'error', id, code: 'TIMEOUT', message: `no answer in ${REQUEST_TIMEOUT_MS} ms` });
      }, REQUEST_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancel);
      };
      // The relay cancels reads only (a valve command, once sent, is the meter's to answer).
      if (message.type === 'read') signal?.addEventListener('abort', cancel);
      this.pending.set(id, { resolve, done });
      this.#send({ ...message, id });
    });
  }

  /**
   * Follows the frame log. `filter` is { concentrator?, meter? }. Returns the subscription id; frames go to
   * `onFrame`, and `onClosed(error)` is called when the master ends the subscription (e.g. SLOW_SUBSCRIBER).
   */
  subscribe(filter, onFrame, onClosed) {
    const id = `s${this.nextId++}`;
    const request = { type: 'subscribe', id, stream: 'frames' };
    if (filter.concentrator) request.concentrator = filter.concentrator;
    if (filter.meter) request.meter = filter.meter;
    this.subscriptions.set(id, { request, onFrame, onClosed });
    if (this.connected) this.#send(request);
    return id;
  }

  unsubscribe(id) {
    if (!this.subscriptions.delete(id)) return;
    if (this.connected) this.#send({ type: 'unsubscribe', id });
  }

  #send(message) {
    this.socket?.send(JSON.stringify(message));
  }

  #onMessage(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return; // the relay only sends JSON; anything else is not ours to show
    }
    const id = message?.id;
    const sub = id === undefined ? undefined : this.subscriptions.get(id);
    if (sub) {
      if (message.type === 'frame') sub.onFrame(message);
      else if (message.type === 'error') {
        this.subscriptions.delete(id);
        sub.onClosed?.(message);
      }
      return;
    }
    const p = id === undefined ? undefined : this.pending.get(id);
    if (p) {
      p.done();
      this.pending.delete(id);
      p.resolve(message);
    }
  }
}
