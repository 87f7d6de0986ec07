"""JavaScript: one persistent Node.js process; globals persist between runs."""

from __future__ import annotations

from typing import ClassVar

from .repl import ReplLanguage

# Runs each request as a script in the global context (so `var`, `let` and functions
# persist), prints the value of the last expression like the Node REPL, and lets
# SIGINT break a running script (breakOnSigint) without ending the process.
DRIVER = r"""
const vm = require('vm'), util = require('util'), fs = require('fs');
const readline = require('readline');
globalThis.require = require;
process.on('SIGINT', () => {});
const write = (text) => { try { fs.writeSync(1, text); } catch (e) {} };
function describe(err) {
  if (!(err instanceof Error)) return 'Uncaught ' + util.inspect(err) + '\n';
  const lines = String(err.stack || err).split('\n');
  const own = lines.filter((l) => !/^\s+at /.test(l) || l.includes('<code>'));
  return own.join('\n') + '\n';
}
async function run(token, code) {
  try {
    let value = vm.runInThisContext(code, { filename: '<code>', breakOnSigint: true });
    if (value && typeof value.then === 'function') value = await value;
    if (value !== undefined) write(util.inspect(value) + '\n');
  } catch (err) {
    write(describe(err));
  }
  write('\x1e' + token + ':end\x1f');
}
const fd = Number(process.env.INTERPRETER_PROTOCOL_FD);
const input = new (require('net').Socket)({ fd, readable: true, writable: false });
const lines = readline.createInterface({ input, terminal: false });
let chain = Promise.resolve();
lines.on('line', (line) => {
  const [token, hex] = line.split(' ');
  chain = chain.then(() => run(token, Buffer.from(hex || '', 'hex').toString('utf8')));
});
lines.on('close', () => chain.then(() => process.exit(0)));
"""


class JavaScript(ReplLanguage):
    """JavaScript on Node.js, one persistent process (``require`` is available)."""

    name: ClassVar[str] = "JavaScript"
    aliases: ClassVar[tuple[str, ...]] = ("js", "node", "nodejs")
    file_extension: ClassVar[str] = "js"
    executable: ClassVar[str] = "node"
    install_hint: ClassVar[str] = "Install Node.js (https://nodejs.org) and try again."

    def argv(self) -> list[str]:
        return [self.executable, "-e", DRIVER]
