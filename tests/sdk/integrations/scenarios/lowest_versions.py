"""Our integrations with the lowest versions they support (openai 1.40, langchain-core 0.3): run in a
virtual environment holding those, with our SDK from the source tree, against the fake OpenAI
server (OPENAI_BASE_URL) and a server of ours (INTERACTIVEAI_*). Prints the trace id as JSON."""

from __future__ import annotations

import asyncio
import json

import openai
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

from interactiveai import get_client, observe
from interactiveai.langchain import CallbackHandler
from interactiveai.openai import AsyncOpenAI, OpenAI

client = OpenAI(max_retries=0)
MESSAGES = [{"role": "user", "content": "Hello"}]


@observe(name="lowest-versions")
def scenario() -> str:
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, name="chat", temperature=0.1)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}, name="stream"
    )
    assert type(stream) is openai.Stream
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Echo: Hello", text
    asyncio.run(AsyncOpenAI().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, name="async"))
    client.embeddings.create(model="text-embedding-3-small", input="Hello", name="embedding")
    try:
        client.chat.completions.create(model="fail-model", messages=MESSAGES, name="failed")
    except openai.BadRequestError:
        pass
    else:
        raise AssertionError("the failing call did not raise")
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | ChatOpenAI(model="gpt-4o-mini") | StrOutputParser()
    answer: str = chain.invoke({"q": "chain"}, config={"callbacks": [CallbackHandler()], "run_name": "chain"})
    assert answer == "Echo: chain", answer
    trace_id = get_client().get_current_trace_id()
    assert trace_id is not None
    return trace_id


trace_id = scenario()
assert get_client().flush(timeout=10)
print(json.dumps({"trace_id": trace_id, "openai": openai.__version__}))
