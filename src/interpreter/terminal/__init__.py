"""The terminal front end: the ``interpreter`` command, rendering, input and magic commands.

Nothing heavy is imported here; ``cli.main`` is the console-script entry point.
"""
