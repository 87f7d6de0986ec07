// The websocket client: Open Interpreter 0.4.3's protocol (auth message, LMC chunks framed
// with start/end, commands, a `complete` status after each response) plus this server's
// commands (hash-bound go, decline, resume, reset, settings) and usage messages.

export class Connection {
  // `handlers`: {ready(), refused(), closed(), chunk(c), server(message)}.
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.ws = null;
    this.authenticated = false;
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/`);
    this.ws = ws;
    this.authenticated = false;
    ws.addEventListener("open", () => ws.send(JSON.stringify({ auth: this.token })));
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", () => {
      if (this.ws === ws) this.handlers.closed(this.authenticated);
    });
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!this.authenticated && "auth" in message) {
      this.authenticated = message.auth === true;
      if (this.authenticated) this.handlers.ready();
      else this.handlers.refused();
      return;
    }
    if (message.role === "server") this.handlers.server(message);
    else this.handlers.chunk(message);
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  // A user message, framed as 0.4.3's clients frame it.
  message(text) {
    return this.send({ role: "user", start: true })
      && this.send({ role: "user", type: "message", content: text })
      && this.send({ role: "user", end: true });
  }

  // A command with its arguments, as one unframed chunk.
  command(name, args = {}) {
    return this.send({ role: "user", type: "command", content: name, ...args });
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
  }
}
