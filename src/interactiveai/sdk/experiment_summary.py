"""The readable summary of an experiment run (``print(result)``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from interactiveai.sdk.datasets import item_field

if TYPE_CHECKING:
    from interactiveai.sdk.experiments import Evaluation, ExperimentResult

PREVIEW_CHARS = 80


def _preview(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def summarise_scores(evaluations: list[Evaluation]) -> list[str]:
    """One line per score name: the mean of numbers and booleans, the counts of categories."""
    by_name: dict[str, list[Any]] = defaultdict(list)
    for evaluation in evaluations:
        by_name[evaluation.name].append(evaluation.value)
    lines = []
    for name, values in sorted(by_name.items()):
        numbers = [float(v) for v in values if isinstance(v, int | float)]  # bool is an int
        if len(numbers) == len(values):
            lines.append(f"{name}: mean {_number(sum(numbers) / len(numbers))} (n={len(values)})")
        else:
            counts = Counter(str(v) for v in values)
            spread = ", ".join(f"{category} ×{count}" for category, count in counts.most_common())
            lines.append(f"{name}: {spread} (n={len(values)})")
    return lines


def format_result(result: ExperimentResult, *, include_item_results: bool) -> str:
    total, failed = len(result.item_results), len(result.failed_items)
    lines = [f"Experiment {result.name!r}, run {result.run_name!r}"]
    if result.description:
        lines.append(result.description)
    lines.append(f"Items: {total}, succeeded: {total - failed}, failed: {failed}")
    if include_item_results:
        for index, item in enumerate(result.item_results, 1):
            lines.append(f"  {index}. input: {_preview(item_field(item.item, 'input'))}")
            if item.error is not None:
                lines.append(f"     failed: {_preview(item.error)}")
                continue
            lines.append(f"     output: {_preview(item.output)}")
            expected = item_field(item.item, "expected_output")
            if expected is not None:
                lines.append(f"     expected: {_preview(expected)}")
            for evaluation in item.evaluations:
                lines.append(f"     {evaluation.name}: {_preview(evaluation.value)}")
            if item.trace_id:
                lines.append(f"     trace: {item.trace_id}")
    item_scores = summarise_scores([e for r in result.item_results for e in r.evaluations])
    if item_scores:
        lines.append("Item scores:")
        lines.extend(f"  {line}" for line in item_scores)
    if result.run_evaluations:
        lines.append("Run scores:")
        lines.extend(f"  {e.name}: {_preview(e.value)}" for e in result.run_evaluations)
    if result.dataset_run_url:
        lines.append(f"Run: {result.dataset_run_url}")
    return "\n".join(lines)
