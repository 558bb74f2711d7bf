"""Drop-in OpenAI client: ``from interactiveai.openai import OpenAI`` (instead of ``from openai import OpenAI``).

Importing this module instruments the installed ``openai`` library for the whole process (see
``interactiveai.sdk.integrations.openai_patch``): every chat completion, legacy completion,
embedding and Responses API call becomes a generation (or embedding) observation, nested under
the current observation. The classes exported here are the library's own.

Example::

    from interactiveai.openai import OpenAI

    client = OpenAI()
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], name="greet")
"""

from __future__ import annotations

import openai
from openai import AsyncAzureOpenAI, AsyncOpenAI, AzureOpenAI, OpenAI

from interactiveai.sdk.integrations.openai_patch import STREAM_USAGE_HOSTS, instrument_openai

instrument_openai()

__all__ = [
    "STREAM_USAGE_HOSTS",
    "AsyncAzureOpenAI",
    "AsyncOpenAI",
    "AzureOpenAI",
    "OpenAI",
    "instrument_openai",
    "openai",
]
