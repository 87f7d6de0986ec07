"""Ruby: one persistent ruby process; local variables, methods and constants persist."""

from __future__ import annotations

from typing import ClassVar

from .repl import ReplLanguage

# Evaluates each request in one binding (as irb does), shows a non-nil result as
# ``=> value``, reports exceptions (SIGINT raises Interrupt, which is reported too).
DRIVER = r"""
$stdout.sync = true
$stderr.sync = true
$stderr.reopen($stdout)
requests = IO.new(Integer(ENV.fetch('INTERPRETER_PROTOCOL_FD')), 'r')
workspace = TOPLEVEL_BINDING
loop do
  line = begin
    requests.gets
  rescue Interrupt
    retry
  end
  break if line.nil?
  token, hex = line.split(' ', 2)
  code = [hex.to_s.strip].pack('H*').force_encoding('UTF-8')
  begin
    value = workspace.eval(code, '(code)', 1)
    puts "=> #{value.inspect}" unless value.nil?
  rescue SystemExit
    raise
  rescue Exception => e
    where = e.backtrace.to_a.select { |l| l.start_with?('(code)') }
    puts "#{e.class}: #{e.message}"
    where.each { |l| puts "\tfrom #{l}" }
  end
  print "\x1e#{token}:end\x1f"
end
"""


class Ruby(ReplLanguage):
    """Ruby, one persistent process evaluating each run in the same binding."""

    name: ClassVar[str] = "Ruby"
    aliases: ClassVar[tuple[str, ...]] = ("rb",)
    file_extension: ClassVar[str] = "rb"
    executable: ClassVar[str] = "ruby"
    install_hint: ClassVar[str] = (
        "Install Ruby (https://www.ruby-lang.org, e.g. `apt install ruby`) and try again."
    )

    def argv(self) -> list[str]:
        return [self.executable, "-e", DRIVER]
