"""PowerShell: one persistent ``pwsh`` process; variables and functions persist."""

from __future__ import annotations

from typing import ClassVar

from .repl import ReplLanguage

# Dot-sources each request into the loop's scope (so definitions persist) and writes
# its output, errors included, as text.
DRIVER = r"""
$fd = [int]$env:INTERPRETER_PROTOCOL_FD
$requests = [IO.StreamReader]::new([IO.FileStream]::new(
    [Microsoft.Win32.SafeHandles.SafeFileHandle]::new([IntPtr]$fd, $true), 'Read'))
while ($null -ne ($line = $requests.ReadLine())) {
    $token, $hex = $line.Split(' ', 2)
    $code = [Text.Encoding]::UTF8.GetString([Convert]::FromHexString($hex))
    try {
        . ([ScriptBlock]::Create($code)) 2>&1 | Out-String -Stream | ForEach-Object {
            [Console]::Out.WriteLine($_)
        }
    } catch {
        [Console]::Out.WriteLine(($_ | Out-String).TrimEnd())
    }
    [Console]::Out.Write("$([char]0x1e)$($token):end$([char]0x1f)")
    [Console]::Out.Flush()
}
"""


class PowerShell(ReplLanguage):
    """PowerShell 7 (``pwsh``), one persistent process."""

    name: ClassVar[str] = "PowerShell"
    aliases: ClassVar[tuple[str, ...]] = ("pwsh", "ps1")
    file_extension: ClassVar[str] = "ps1"
    executable: ClassVar[str] = "pwsh"
    install_hint: ClassVar[str] = (
        "Install PowerShell 7 (https://aka.ms/powershell, `pwsh`) and try again."
    )

    def argv(self) -> list[str]:
        return [self.executable, "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", DRIVER]
