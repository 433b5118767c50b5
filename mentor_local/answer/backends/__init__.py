"""Model backends: in-process llama.cpp, an OpenAI-compatible server, and the GGUF probe.

Each backend satisfies ``protocols.ChatModel`` (``complete``); the optional
extras that ``Mentor`` uses when present are ``count_tokens``, ``chat``,
``chat_template``, ``n_ctx`` and ``info()``.
"""
