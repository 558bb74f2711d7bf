"""LangChain integration: ``from interactiveai.langchain import CallbackHandler``.

Pass the handler in a run's config (``config={"callbacks": [CallbackHandler()]}``) to record the
run's chains, agents, chat models, LLMs, tools and retrievers as nested observations (see
``interactiveai.sdk.integrations.langchain_handler``). Needs ``langchain-core``
(``pip install 'interactiveai[langchain]'``).
"""

from __future__ import annotations

from interactiveai.sdk.integrations.langchain_handler import CallbackHandler

__all__ = ["CallbackHandler"]
