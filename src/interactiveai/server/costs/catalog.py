"""The packaged price catalog: model names → per-token prices, from the `genai-prices` data.

Only the data bundled with the installed package is read (``genai_prices.data.providers``); the
package's auto-update machinery (``UpdatePrices``, custom snapshots) is never started or consulted,
so pricing needs no network and gives the same answer on every replica with the same version.

Our usage keys are disjoint buckets ("input" is input *without* cached tokens), whereas
genai-prices counts ``input_tokens`` inclusive of cache reads and writes and derives "leaf" counts
by subtraction. Pricing each of our buckets directly at its own rate is the same arithmetic without
the subtraction, and it lets us return the cost per usage key for the UI breakdown. A bucket whose
rate the model does not list falls back to its nearest ancestor unit (cache write 1h → cache write
→ input; reasoning → output), which is what genai-prices' leaf arithmetic does too: a reasoning
token not priced separately stays inside ``output_tokens`` and is charged at the output rate.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from genai_prices.data import providers as _PROVIDERS
from genai_prices.data_units import unit_data as _UNIT_DATA
from genai_prices.types import ModelInfo, ModelPrice, Provider, TieredPrices

from interactiveai.server.costs.usage_keys import catalog_unit

_MAX_CACHE = 20_000  # distinct model names remembered (hits and misses); bounded against hostile input
_MAX_NAME = 256  # longer strings are not model names; skipping them keeps lookups cheap


@dataclass(frozen=True)
class _Unit:
    usage_key: str
    price_key: str
    per: int
    direction: str | None
    chain: tuple[str, ...]  # price keys to try, most specific first (own, then ancestors)


def _build_units(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, _Unit]:
    dims = {key: dict(spec.get("dimensions", {})) for key, spec in raw.items()}
    units: dict[str, _Unit] = {}
    for key, spec in raw.items():
        own = dims[key]
        ancestors = [
            other
            for other, other_dims in dims.items()
            if other != key and other_dims.items() <= own.items() and other_dims.get("family") == own.get("family")
        ]
        # The more dimensions an ancestor shares, the closer it is: cache_write_1h → cache_write → input.
        ancestors.sort(key=lambda k: (-len(dims[k]), k))
        chain = (str(spec.get("price_key", key)), *(str(raw[a].get("price_key", a)) for a in ancestors))
        units[key] = _Unit(key, chain[0], int(spec["per"]), own.get("direction"), chain)
    return units


_UNITS = _build_units(_UNIT_DATA)


@dataclass(frozen=True)
class CatalogModel:
    """A catalog entry a model name resolved to."""

    provider_id: str
    model_id: str
    name: str | None
    info: ModelInfo

    @property
    def ref(self) -> str:
        """Stable id stored as the observation's matched model (fits the 64-character id column)."""
        return f"{self.provider_id}/{self.model_id}"[:64]


# Provider hints for names genai-prices cannot place by itself, tried in order (first hit wins).
# Hosted open-weight models (llama, …) are priced differently by each host; the first host listed
# that knows the model is used, which is a documented approximation.
_HINTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    # Bedrock model ids: "anthropic.claude-…-v2:0", with an optional cross-region prefix ("us.").
    (
        re.compile(
            r"^((us|eu|apac|global|us-gov)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen)\."
        ),
        ("aws",),
    ),
    (re.compile(r"^(gpt-|chatgpt|o[1-9]|text-embedding|davinci|babbage|whisper|tts-|dall-e|omni-)"), ("openai",)),
    (re.compile(r"claude"), ("anthropic",)),
    (re.compile(r"gemini|gemma|imagen"), ("google",)),
    (re.compile(r"mistral|ministral|codestral|mixtral|pixtral|magistral|devstral|voxtral"), ("mistral",)),
    (re.compile(r"^(command|embed-|rerank-|c4ai-)"), ("cohere",)),
    (re.compile(r"deepseek"), ("deepseek",)),
    (re.compile(r"grok"), ("x-ai",)),
    (re.compile(r"llama|qwen|kimi|glm|gpt-oss"), ("groq", "together", "fireworks", "novita")),
)
# Prefixes that are not providers but wrap a model name ("models/gemini-1.5-pro" in Google's APIs).
_WRAPPERS = ("models/", "publishers/google/models/")
# Common spellings of providers in "provider/model" names that differ from the catalog's ids.
_PROVIDER_ALIASES = {
    "gemini": "google",
    "vertex_ai": "google",
    "vertex": "google",
    "google-ai": "google",
    "bedrock": "aws",
    "amazon": "aws",
    "xai": "x-ai",
    "mistralai": "mistral",
    "meta": "groq",
    "meta-llama": "groq",
    "azure_openai": "azure",
    "fireworks_ai": "fireworks",
}


_DISPLAY_KEYS = (
    "input",
    "input_cached_tokens",
    "input_cache_creation",
    "input_cache_creation_1h",
    "input_audio_tokens",
    "output",
    "output_reasoning_tokens",
    "output_audio_tokens",
)


class Catalog:
    """Resolves model names against the bundled catalog, caching every answer (hits and misses)."""

    def __init__(self, providers: Iterable[Provider] | None = None) -> None:
        self._providers = list(providers if providers is not None else _PROVIDERS)
        self._by_id = {p.id: p for p in self._providers}
        self._cache: dict[str, CatalogModel | None] = {}
        self._tables: dict[int, _RateTable] = {}
        self._lock = threading.Lock()

    def resolve(self, model_name: str) -> CatalogModel | None:
        key = model_name.strip().lower()
        try:
            return self._cache[key]
        except KeyError:
            pass
        found = self._resolve_uncached(key) if 0 < len(key) <= _MAX_NAME else None
        with self._lock:
            if len(self._cache) >= _MAX_CACHE:
                self._cache.clear()
            self._cache[key] = found
        return found

    def peek(self, model_name: str) -> tuple[bool, CatalogModel | None]:
        """Whether ``resolve`` would answer without work (cached, or not a name), and its answer then."""
        key = model_name.strip().lower()
        try:
            return True, self._cache[key]
        except KeyError:
            return not 0 < len(key) <= _MAX_NAME, None

    def _resolve_uncached(self, name: str) -> CatalogModel | None:
        for wrapper in _WRAPPERS:
            if name.startswith(wrapper):
                name = name[len(wrapper) :]
        found = self._find(name)
        if found is None and "/" in name:
            # "openai/gpt-4o", "anthropic/claude-…", "vertex_ai/gemini-…": a provider prefix.
            prefix, _, rest = name.partition("/")
            provider = self._by_id.get(_PROVIDER_ALIASES.get(prefix, prefix))
            if provider is not None:
                found = self._in(provider, rest)
            if found is None:
                found = self._find(rest)
        return found

    def _find(self, name: str) -> CatalogModel | None:
        # genai-prices' own provider matching first (it knows most naming schemes) …
        for provider in self._providers:
            if provider.model_match is not None and provider.model_match.is_match(name):
                found = self._in(provider, name)
                if found is not None:
                    return found
        # … then our hints, for names its provider rules do not claim (o3-mini, llama-…).
        for pattern, provider_ids in _HINTS:
            if pattern.search(name):
                for provider_id in provider_ids:
                    hinted = self._by_id.get(provider_id)
                    found = self._in(hinted, name) if hinted is not None else None
                    if found is not None:
                        return found
        return None

    def _in(self, provider: Provider, name: str) -> CatalogModel | None:
        info = provider.find_model(name, all_providers=self._providers)
        if info is None:
            return None
        return CatalogModel(provider.id, info.id, info.name, info)

    def price(self, model: CatalogModel, usage: Mapping[str, int], start_time_us: int) -> dict[str, float]:
        """Cost per usage key (USD) of ``usage`` at the prices valid at ``start_time_us``.

        Keys the catalog has no rate for (nor an ancestor rate) are left out; ``total`` is never
        priced here because it is the sum of the other buckets.
        """
        table = self._table_for(model.info, start_time_us)
        costs: dict[str, float] = {}
        input_total: float = 0
        tiered: list[tuple[str, float, TieredPrices, int]] = []
        for key, count in usage.items():
            if isinstance(count, bool) or not isinstance(count, int | float) or not count >= 0:  # NaN too
                continue
            rate = table.rate(key)
            if rate is None:
                continue
            if rate.is_input:
                input_total += count
            if rate.tiers is None:
                costs[key] = rate.per_unit * count
            else:
                tiered.append((key, count, rate.tiers, rate.per))
        for key, units, tiers, per in tiered:
            costs[key] = float(_tier_rate(tiers, input_total)) * units / per
        return costs

    def prices_per_million(self, model: CatalogModel, start_time_us: int) -> dict[str, float]:
        """USD per million units for each of our main usage keys (base tier), for display in the UI."""
        table = self._table_for(model.info, start_time_us)
        shown: dict[str, float] = {}
        for key in _DISPLAY_KEYS:
            rate = table.rate(key)
            if rate is not None:
                per_unit = float(rate.tiers.base) / rate.per if rate.tiers is not None else rate.per_unit
                shown[key] = round(per_unit * 1_000_000, 9)
        return shown

    def _table_for(self, info: ModelInfo, start_time_us: int) -> _RateTable:
        if isinstance(info.prices, ModelPrice):
            model_price = info.prices  # the common case: one price set, no date to evaluate
        else:
            model_price = info.get_prices(datetime.fromtimestamp(start_time_us / 1_000_000, tz=UTC))
        table = self._tables.get(id(model_price))
        if table is not None and table.source is model_price:
            return table
        table = _RateTable(model_price)
        with self._lock:
            self._tables[id(model_price)] = table  # the table holds the object, so its id stays unique
        return table


@dataclass(frozen=True)
class _KeyRate:
    per_unit: float  # USD per token (flat prices); unused when tiers is set
    tiers: TieredPrices | None  # prompt-size tiers, resolved per request
    per: int
    is_input: bool


class _RateTable:
    """One price set of one model, with the rate of each of our usage keys resolved once."""

    def __init__(self, source: ModelPrice) -> None:
        self.source = source
        self._prices = {
            k: v for k, v in vars(source).items() if not k.startswith("_") and isinstance(v, Decimal | TieredPrices)
        }
        self._by_key: dict[str, _KeyRate | None] = {}

    def rate(self, key: str) -> _KeyRate | None:
        try:
            return self._by_key[key]
        except KeyError:
            pass
        found: _KeyRate | None = None
        unit_key = catalog_unit(key)
        unit = _UNITS.get(unit_key) if unit_key is not None else None
        if unit is not None:
            price = next((self._prices[pk] for pk in unit.chain if pk in self._prices), None)
            if isinstance(price, Decimal):
                found = _KeyRate(float(price / unit.per), None, unit.per, unit.direction == "input")
            elif isinstance(price, TieredPrices):
                found = _KeyRate(0.0, price, unit.per, unit.direction == "input")
        if len(self._by_key) < 1_000:  # keys come from clients; only the first thousand are remembered
            self._by_key[key] = found
        return found


def _tier_rate(rate: TieredPrices, input_total: float) -> Decimal:
    # Providers bill the whole request at the tier its prompt size reaches ("cliff" tiers), as
    # genai-prices does: the prompt is every input bucket (cached and cache-write tokens included).
    applicable = rate.base
    for tier in rate.tiers:
        if input_total > tier.start:
            applicable = tier.price
    return applicable


_default: Catalog | None = None


def default_catalog() -> Catalog:
    """The process-wide catalog: built once, shared by every calculator (the data is read-only)."""
    global _default
    if _default is None:
        _default = Catalog()
    return _default
