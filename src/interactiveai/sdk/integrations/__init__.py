"""Integrations with LLM libraries: the OpenAI client (``interactiveai.openai``) and LangChain
(``interactiveai.langchain``).

Each integration imports its library itself, so ``import interactiveai`` never needs them. The
public import paths are the thin modules ``interactiveai.openai`` and ``interactiveai.langchain``.
"""
