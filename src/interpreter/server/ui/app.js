// The page: wires the connection, the transcript, the side panel and the composer.
// States: connecting -> idle <-> busy (a reply is running) / awaiting (code waits for a
// decision) -> closed. The token comes from the URL fragment (#token=...), which never
// reaches the server; it is kept in sessionStorage and removed from the address bar.

import { Connection } from "./connection.js";
import { sha256 } from "./sha256.js";
import { Sidebar } from "./sidebar.js";
import { Transcript } from "./transcript.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "interpreter-token";

function takeToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, "", location.pathname + location.search);
    return token;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

class App {
  constructor(token) {
    this.token = token;
    this.state = "connecting";
    this.awaitingCode = false;
    this.settingsPending = false;
    this.transcript = new Transcript($("transcript"), {
      go: (hash) => this.approve({ hash }),
      edit: (code) => this.approveEdited(code),
      decline: () => this.decline(),
    });
    this.sidebar = new Sidebar(token, {
      resume: (name) => this.command("resume", { conversation: name }),
      reset: () => this.command("reset"),
      settings: (changes) => { this.settingsPending = true; this.command("settings", { settings: changes }); },
    });
    this.connection = new Connection(token, {
      ready: () => this.ready(),
      refused: () => this.refused(),
      closed: (wasReady) => this.closed(wasReady),
      chunk: (chunk) => this.chunk(chunk),
      server: (message) => this.server(message),
    });
    this.bindComposer();
  }

  start() {
    this.setState("connecting");
    this.connection.open();
  }

  setState(state) {
    this.state = state;
    document.body.dataset.state = state;
    const label = $("state");
    label.textContent = state === "awaiting" ? "waiting for approval" : state;
    label.className = `state ${state}`;
    $("stop").hidden = !(state === "busy" || state === "awaiting");
    $("send").disabled = !(state === "idle" || state === "awaiting");
  }

  // -- the composer ------------------------------------------------------------------------

  bindComposer() {
    const input = $("input");
    $("composer").addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    $("stop").addEventListener("click", () => this.stop());
  }

  send() {
    const input = $("input");
    const text = input.value.trim();
    if (!text || !(this.state === "idle" || this.state === "awaiting")) return;
    if (this.awaitingCode) this.transcript.dropPending("Declined (you sent a new message)");
    this.awaitingCode = false;
    this.transcript.user(text);
    if (!this.titled) $("title").textContent = text.split("\n")[0].slice(0, 80);
    this.titled = true;
    input.value = "";
    if (this.connection.message(text)) this.setState("busy");
  }

  stop() {
    if (this.awaitingCode) this.transcript.dropPending("Declined (stopped)");
    this.awaitingCode = false;
    this.connection.command("stop");
  }

  command(name, args) {
    if (this.state === "busy") {
      this.transcript.notice("Wait for the reply to finish, or stop it first.");
      return;
    }
    if (this.connection.command(name, args)) this.setState("busy");
  }

  // -- approval ------------------------------------------------------------------------------

  approve(args) {
    this.awaitingCode = false;
    if (this.connection.command("go", args)) this.setState("busy");
  }

  async approveEdited(code) {
    this.approve({ code, hash: await sha256(code) });
  }

  decline() {
    this.awaitingCode = false;
    if (this.connection.command("decline")) this.setState("busy");
  }

  // -- from the server -----------------------------------------------------------------------

  ready() {
    $("token-prompt").hidden = true;
    this.setState("busy");
    this.connection.command("settings"); // answered with the session's settings
    this.sidebar.refresh();
  }

  refused() {
    sessionStorage.removeItem(TOKEN_KEY);
    this.connection.close();
    this.setState("closed");
    askForToken("The server refused this token.");
  }

  closed(wasReady) {
    this.setState("closed");
    if (wasReady) this.reconnectNotice();
    else askForToken("Could not connect to the server (is it running? is the token right?).");
  }

  reconnectNotice() {
    const box = document.createElement("div");
    box.className = "notice";
    box.append("Disconnected from the server. ");
    const again = document.createElement("button");
    again.type = "button";
    again.textContent = "Reconnect";
    again.addEventListener("click", () => { box.remove(); this.start(); });
    box.append(again);
    $("transcript").append(box);
  }

  chunk(chunk) {
    this.transcript.chunk(chunk);
    if (chunk.type === "confirmation") this.awaitingCode = true;
  }

  server(message) {
    const { type, content } = message;
    if (type === "status" && content === "complete") this.complete();
    else if (type === "error") this.serverError(String(content));
    else if (type === "usage") this.sidebar.usage(content || {});
    else if (type === "settings") this.settings(content || {});
    else if (type === "conversation") this.conversation(content || {});
  }

  complete() {
    this.transcript.endBlock();
    this.setState(this.awaitingCode ? "awaiting" : "idle");
    this.sidebar.refresh();
  }

  serverError(text) {
    if (this.settingsPending) {
      this.settingsPending = false;
      this.sidebar.status(text);
      return;
    }
    this.transcript.error(text);
  }

  settings(view) {
    if (this.settingsPending) this.sidebar.status("Saved for this session.");
    this.settingsPending = false;
    this.sidebar.showSettings(view);
  }

  conversation(content) {
    const messages = Array.isArray(content.messages) ? content.messages : [];
    this.awaitingCode = false;
    this.transcript.load(messages);
    $("title").textContent = content.title ? String(content.title) : "New conversation";
    this.titled = Boolean(content.title);
    this.sidebar.setCurrent(content.name || null);
  }
}

function askForToken(problem) {
  $("token-prompt").hidden = false;
  const note = $("token-prompt").querySelector(".muted");
  if (problem) note.textContent = problem;
}

function main() {
  const token = takeToken();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token-input").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    location.reload();
  });
  if (!token) {
    document.body.dataset.state = "closed";
    $("state").textContent = "no token";
    askForToken("");
    return;
  }
  window.interpreterUI = new App(token);
  window.interpreterUI.start();
}

main();
