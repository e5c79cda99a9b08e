// The hub's live stream (server-sent events) with its connection state.
//
// EventSource reconnects by itself after a dropped connection (the hub asks for 1 s) and sends
// Last-Event-ID, so the hub replays what was missed; when it cannot, its "hello" says
// resumed=false (or it sends "resync") and the page fetches its state again. If the browser gives
// up (the hub answered with an error), we open a new stream after a backoff.

const STATES = new Set(["connecting", "open", "closed"]);
const MAX_BACKOFF_MS = 10000;

export class LiveStream {
  /**
   * topics: names to subscribe to; handlers: {topic: fn(data)}; onSync: called when the page
   * must fetch its state (first connection, lost events); onState: fn(state); onRefused: called
   * when the hub refused the stream (the session may have ended).
   */
  constructor(topics, { handlers = {}, onSync = () => {}, onState = () => {}, onRefused = () => {} } = {}) {
    this.topics = topics;
    this.handlers = handlers;
    this.onSync = onSync;
    this.onState = onState;
    this.onRefused = onRefused;
    this.state = null;
    this.backoff = 1000;
    this.source = null;
    this.timer = null;
    this.open();
  }

  open() {
    clearTimeout(this.timer);
    const source = new EventSource(`/api/v1/stream?topics=${this.topics.join(",")}`);
    this.source = source;
    this.setState("connecting");
    source.addEventListener("hello", (event) => {
      this.backoff = 1000;
      this.setState("open");
      const hello = JSON.parse(event.data);
      if (!hello.resumed) this.onSync("hello");
    });
    source.addEventListener("resync", () => this.onSync("resync"));
    for (const topic of this.topics) {
      source.addEventListener(topic, (event) => {
        const handler = this.handlers[topic];
        if (handler) handler(JSON.parse(event.data));
      });
    }
    source.addEventListener("error", () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CLOSED) {
        this.setState("closed");
        this.onRefused();
        this.timer = setTimeout(() => this.open(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      } else {
        this.setState("connecting"); // the browser is reconnecting by itself
      }
    });
  }

  setState(state) {
    if (!STATES.has(state) || state === this.state) return;
    this.state = state;
    document.documentElement.dataset.live = state;
    this.onState(state);
  }

  close() {
    clearTimeout(this.timer);
    if (this.source) this.source.close();
  }
}
