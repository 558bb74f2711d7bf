"""Reading the judge's answer as a score of the evaluator's type."""

from __future__ import annotations

import pytest

from interactiveai.server.evals.verdicts import ScoreSpec, UnparseableAnswer, instructions, parse

NUMERIC = ScoreSpec("quality", "NUMERIC", 0, 10)
BOOLEAN = ScoreSpec("correct", "BOOLEAN")
CATEGORICAL = ScoreSpec("tone", "CATEGORICAL", categories=("polite", "neutral", "rude"))


@pytest.mark.parametrize(
    ("answer", "spec", "value", "label", "reasoning"),
    [
        ('{"score": 7, "reasoning": "good"}', NUMERIC, 7.0, None, "good"),
        ('```json\n{"score": "7.5", "reasoning": "ok"}\n```', NUMERIC, 7.5, None, "ok"),
        ('Here you go: {"value": 3, "explanation": "meh"} hope it helps', NUMERIC, 3.0, None, "meh"),
        ('{"score": true, "reasoning": "right"}', BOOLEAN, 1.0, "True", "right"),
        ('{"score": "no"}', BOOLEAN, 0.0, "False", None),
        ('{"score": "Rude", "reasoning": "shouts"}', CATEGORICAL, 2.0, "rude", "shouts"),
        ('{"reasoning": {"why": 1}, "score": 0}', NUMERIC, 0.0, None, '{"why": 1}'),
    ],
)
def test_answers_models_give_are_read(
    answer: str, spec: ScoreSpec, value: float, label: str | None, reasoning: str | None
) -> None:
    verdict = parse(answer, spec)
    assert (verdict.value, verdict.string_value, verdict.reasoning) == (value, label, reasoning)


@pytest.mark.parametrize(
    ("answer", "spec"),
    [
        ("I think it is fine.", NUMERIC),
        ('{"reasoning": "no score"}', NUMERIC),
        ('{"score": 11}', NUMERIC),
        ('{"score": "NaN"}', NUMERIC),
        ('{"score": true}', NUMERIC),
        ('{"score": "maybe"}', BOOLEAN),
        ('{"score": "angry"}', CATEGORICAL),
        ("[1, 2]", NUMERIC),
    ],
)
def test_an_answer_without_a_fitting_score_is_unparseable(answer: str, spec: ScoreSpec) -> None:
    with pytest.raises(UnparseableAnswer):
        parse(answer, spec)


def test_the_instructions_name_the_scale() -> None:
    assert "a number from 0 to 10" in instructions(NUMERIC)
    assert '"polite", "neutral", "rude"' in instructions(CATEGORICAL)
