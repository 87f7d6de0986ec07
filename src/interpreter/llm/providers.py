"""Which provider serves a model string, at which endpoint, with which key.

``claude-*`` / ``anthropic/*`` -> Anthropic's Messages API; ``gpt-*``, ``o1*``, ``o3*``,
``openai/*``, ``ollama/*``, ``lm_studio/*``, ``openrouter/*`` ... or any ``api_base`` ->
an OpenAI-compatible endpoint; ``*.gguf`` -> the file, run in this process (``gguf.py``);
every other model string -> LiteLLM. What each route's model can do (tools, images, its
context window) is its client's business (``model.py``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .errors import ModelError, NoModelConfigured

Kind = Literal["openai", "anthropic", "litellm", "gguf"]

OPENAI_BASE = "https://api.openai.com/v1"
ANTHROPIC_BASE = "https://api.anthropic.com/v1"


class OfflineRefused(ModelError):
    """``offline`` is set and the model is hosted elsewhere (one line, no setup help)."""


@dataclass(frozen=True)
class _Provider:
    name: str
    base: str
    key_env: str | None  # None: a local server, no key needed


# prefix -> an OpenAI-compatible provider
OPENAI_COMPATIBLE: dict[str, _Provider] = {
    "openai": _Provider("OpenAI", OPENAI_BASE, "OPENAI_API_KEY"),
    "ollama": _Provider("Ollama", "http://localhost:11434/v1", None),
    "ollama_chat": _Provider("Ollama", "http://localhost:11434/v1", None),
    "lm_studio": _Provider("LM Studio", "http://localhost:1234/v1", None),
    "openrouter": _Provider("OpenRouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "groq": _Provider("Groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "deepseek": _Provider("DeepSeek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "xai": _Provider("xAI", "https://api.x.ai/v1", "XAI_API_KEY"),
    "together_ai": _Provider("Together AI", "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"),
    "fireworks_ai": _Provider(
        "Fireworks AI", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"
    ),
}
ANTHROPIC = _Provider("Anthropic", ANTHROPIC_BASE, "ANTHROPIC_API_KEY")

# prefixes that stay with LiteLLM even with an api_base (their APIs are not OpenAI's)
LITELLM_ONLY = frozenset(
    {"azure", "gemini", "vertex_ai", "bedrock", "cohere", "cohere_chat", "huggingface",
     "replicate", "sagemaker", "mistral", "palm", "watsonx", "databricks", "cloudflare"}
)  # fmt: skip

_OPENAI_MODEL = re.compile(r"^(gpt-|chatgpt-|o1|o3|o4|text-davinci|davinci|babbage)")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


@dataclass(frozen=True)
class Route:
    """Where one model's requests go. ``model`` is the name sent on the wire."""

    kind: Kind
    provider: str
    model: str
    api_base: str
    api_key: str | None
    custom_base: bool = False
    prefix: str | None = None

    @property
    def local(self) -> bool:
        return self.kind == "gguf" or is_local(self.api_base)

    @property
    def server(self) -> str:
        """Who answers, as error messages name it: ``the model server at 127.0.0.1:8080``
        for an ``api_base`` the user set, else the provider and its host (``OpenAI
        (api.openai.com)``, ``Ollama (localhost:11434)``)."""
        if self.kind == "gguf":
            return f"the model file {self.model}"
        if self.custom_base or not self.api_base:
            return server_at(self.api_base) if self.api_base else self.provider
        return f"{self.provider} ({host_of(self.api_base)})"


def host_of(url: str) -> str:
    """The ``host:port`` of ``url`` (the URL itself when it has none)."""
    return urlsplit(url).netloc or url


def server_at(url: str) -> str:
    """``the model server at HOST:PORT``: how a server the user named is called."""
    return f"the model server at {host_of(url)}"


def is_local(url: str) -> bool:
    """Whether ``url`` points at this machine."""
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


def split_prefix(model: str) -> tuple[str | None, str]:
    """``"openai/gpt-4o"`` -> ``("openai", "gpt-4o")``; no prefix -> ``(None, model)``."""
    prefix, sep, rest = model.partition("/")
    if sep and rest and prefix.replace("_", "").replace("-", "").isalnum():
        return prefix.lower(), rest
    return None, model


def choose_route(
    model: str,
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Route:
    """The route for ``model``; raises NoModelConfigured when a hosted provider has no key."""
    env = os.environ if env is None else env
    if model.strip().lower().endswith(".gguf"):
        return Route("gguf", "llama-cpp-python", model.strip(), "", None)
    prefix, name = split_prefix(model)
    base = api_base.rstrip("/") if api_base else None
    if prefix == "anthropic" or (prefix is None and name.startswith("claude")):
        return _keyed("anthropic", ANTHROPIC, name, base, api_key, env, prefix)
    if prefix in OPENAI_COMPATIBLE:
        return _keyed("openai", OPENAI_COMPATIBLE[prefix], name, base, api_key, env, prefix)
    if base is not None and prefix not in LITELLM_ONLY:
        return _keyed("openai", _Provider("OpenAI-compatible server", base, None), model, base,
                      api_key, env, prefix)  # fmt: skip
    if prefix is None and _OPENAI_MODEL.match(name):
        return _keyed("openai", OPENAI_COMPATIBLE["openai"], name, base, api_key, env, prefix)
    return Route("litellm", "LiteLLM", model, base or "", api_key, base is not None, prefix)


def _keyed(
    kind: Kind,
    provider: _Provider,
    model: str,
    base: str | None,
    api_key: str | None,
    env: Mapping[str, str],
    prefix: str | None,
) -> Route:
    url = base or provider.base
    key = api_key or _env_key(provider, base, env)
    if key is None and not is_local(url) and provider.key_env is not None:
        raise NoModelConfigured(_missing_key_message(provider))
    return Route(kind, provider.name, model, url, key, base is not None, prefix)


def _env_key(provider: _Provider, base: str | None, env: Mapping[str, str]) -> str | None:
    """The provider's key from the environment; never for a local server it does not need."""
    if provider.key_env is None:
        # a custom OpenAI-compatible endpoint: OPENAI_API_KEY by convention, hosted only
        return env.get("OPENAI_API_KEY") if base and not is_local(base) else None
    if base is not None and is_local(base):
        return None
    return env.get(provider.key_env) or None


def _missing_key_message(provider: _Provider) -> str:
    return (
        f"No API key for {provider.name}: set {provider.key_env} "
        f"(export {provider.key_env}=...), or pass --api_key / set interpreter.llm.api_key; "
        "for a local model use --local or --api_base."
    )


_VISION = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-4-turbo|gpt-4-vision|gpt-5|o1(?!-mini)|o3|o4|"
                     r"claude-3|claude-(sonnet|opus|haiku)-4|claude-[4-9])")  # fmt: skip


def known_vision(model: str) -> bool:
    """Whether ``model`` (a name sent on the wire) is known to accept images."""
    return bool(_VISION.match(model.split("/")[-1]))


def check_offline(route: Route) -> None:
    """With ``offline``: only this machine, a private network or an in-process model."""
    from .local_servers import is_private_url

    if route.kind == "gguf" or (route.api_base and is_private_url(route.api_base)):
        return
    where = route.api_base or f"{route.provider} (hosted)"
    raise OfflineRefused(
        f"offline: {route.model} at {where} is not on this machine or a private network; "
        "use --local, --api_base http://localhost:PORT/v1 or a .gguf file, or drop --offline."
    )
