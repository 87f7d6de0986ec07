"""Files in the user's config dir: conversations (JSON) and profiles (YAML).

Formats and names are Open Interpreter 0.4.3's, so existing users' files move over
unchanged. Writes are atomic and private (0600 files, 0700 folders).
"""
