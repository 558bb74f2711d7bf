"""LLM-as-a-judge on live traffic: model connections, evaluators, and the worker that runs them."""
