// The side panel: saved conversations (GET /conversations), the usage meter and the
// settings a client may change (the server's allow-list decides; auto-run can only be
// switched off from here).

const $ = (id) => document.getElementById(id);

const number = (n) => Number(n || 0).toLocaleString("en-US");

export class Sidebar {
  // `actions`: {resume(name), reset(), settings(changes)}.
  constructor(token, actions) {
    this.token = token;
    this.actions = actions;
    this.current = null;
    this.shown = {};
    $("new-chat").addEventListener("click", () => actions.reset());
    $("settings").addEventListener("submit", (event) => {
      event.preventDefault();
      const changes = this.changes();
      if (Object.keys(changes).length) actions.settings(changes);
      else this.status("Nothing changed.");
    });
    $("auto-run-off").addEventListener("click", () => actions.settings({ auto_run: false }));
  }

  // -- conversations -------------------------------------------------------------------------

  async refresh() {
    let list;
    try {
      const response = await fetch("/conversations", { headers: { "X-API-KEY": this.token }, cache: "no-store" });
      if (!response.ok) return;
      list = await response.json();
    } catch {
      return;
    }
    this.showConversations(Array.isArray(list) ? list : []);
  }

  showConversations(list) {
    const ul = $("conversations");
    ul.replaceChildren();
    for (const entry of list) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = String(entry.title || entry.name);
      button.title = entry.error ? `cannot be read: ${entry.error}` : String(entry.title || entry.name);
      button.dataset.name = String(entry.name);
      button.disabled = Boolean(entry.error);
      if (entry.name === this.current) button.classList.add("current");
      button.addEventListener("click", () => this.actions.resume(String(entry.name)));
      li.append(button);
      ul.append(li);
    }
    $("conversations-empty").hidden = list.length > 0;
  }

  setCurrent(name) {
    this.current = name;
    for (const button of $("conversations").querySelectorAll("button")) {
      button.classList.toggle("current", button.dataset.name === name);
    }
  }

  // -- usage ---------------------------------------------------------------------------------

  usage(content) {
    const prompt = Number(content.prompt_tokens || 0);
    const completion = Number(content.completion_tokens || 0);
    $("usage-tokens").textContent = number(content.total_tokens ?? prompt + completion);
    $("usage-split").textContent = `${number(prompt)} / ${number(completion)}`;
    const cost = Number(content.cost || 0);
    const budget = content.max_budget ? ` of $${Number(content.max_budget).toFixed(2)}` : "";
    $("usage-cost").textContent = `$${cost.toFixed(4)}${budget}`;
  }

  // -- settings ------------------------------------------------------------------------------

  showSettings(view) {
    const llm = view.llm || {};
    this.shown = { model: llm.model ?? "", temperature: llm.temperature ?? "", instructions: view.custom_instructions ?? "" };
    $("setting-model").value = String(this.shown.model);
    $("setting-temperature").value = String(this.shown.temperature);
    $("setting-instructions").value = String(this.shown.instructions);
    const auto = view.auto_run === true;
    $("auto-run").textContent = auto
      ? "Auto-run is ON (set where the server was started): code runs without asking."
      : "Auto-run: off. Code runs only after you approve it.";
    $("auto-run").classList.toggle("error", auto);
    $("auto-run-off").hidden = !auto;
  }

  changes() {
    const model = $("setting-model").value.trim();
    const temperature = $("setting-temperature").value.trim();
    const instructions = $("setting-instructions").value;
    const llm = {};
    const changes = {};
    if (model && model !== String(this.shown.model)) llm.model = model;
    if (temperature !== "" && Number(temperature) !== Number(this.shown.temperature)) llm.temperature = Number(temperature);
    if (Object.keys(llm).length) changes.llm = llm;
    if (instructions !== String(this.shown.instructions)) changes.custom_instructions = instructions;
    return changes;
  }

  status(text) {
    $("settings-status").textContent = text;
  }
}
