"""Prompts and fixed wordings, kept as data (the system message lives in system_message.txt)."""

from __future__ import annotations

from importlib import resources


def default_system_message() -> str:
    return resources.files(__package__).joinpath("system_message.txt").read_text("utf-8").strip()


LOOP_MESSAGE = (
    "Proceed. You can run code on my machine. If the whole task I asked for is done, say "
    "exactly 'The task is done.' If you need some specific information (like a username or "
    "password) say exactly 'Please provide more information.' If it is impossible, say "
    "'The task is impossible.' (If I have not given you a task, say exactly 'Let me know what "
    "you'd like to do next.') Otherwise keep going."
)

LOOP_BREAKERS = [
    "The task is done.",
    "The task is impossible.",
    "Let me know what you'd like to do next.",
    "Please provide more information.",
]

DECLINED = "The user declined to run this code."
EMPTY_CODE = "No code was given. Write the code to run in the `code` argument."
TRUNCATED = (
    "Output truncated: showing the first {head} and the last {tail} of {total} characters.\n\n"
)
TURN_LIMIT = (
    "Stopped: the model was asked {limit} times in this turn (max_turns). Send a message to go on."
)
REPEATING = "Stopped: {what} (auto_run, max_repeats). Send a message to go on, perhaps with a hint."
REPEATING_ASK = "Note: {what}; asking before the next code runs (max_repeats)."
