"""Variants of the template, enumerated from copier.yml itself.

Every question with a finite set of answers (choices, bool, multiselect)
multiplies the matrix; free-text questions take their defaults. A new
question therefore widens the matrix without any edit here.
"""

import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from jinja2.sandbox import SandboxedEnvironment

ROOT = Path(__file__).resolve().parents[1]
COPIER_YML = ROOT / "copier.yml"

# Questions that change only CI configuration, never the project's own test
# suite: variants that differ only here share one suite run.
# tests/test_render.py proves that claim for every variant.
SUITE_NEUTRAL = frozenset({"ci"})


@dataclass(frozen=True)
class Variant:
    answers: tuple[tuple[str, object], ...]

    @property
    def data(self) -> dict:
        return {key: list(v) if isinstance(v, tuple) else v for key, v in self.answers}

    @property
    def id(self) -> str:
        parts = []
        for key, value in self.answers:
            if isinstance(value, tuple):
                parts.append("+".join(value))
            elif isinstance(value, bool):
                parts.append(key if value else f"no-{key}")
            else:
                parts.append(str(value))
        return "-".join(parts)

    @property
    def suite_key(self) -> tuple:
        return tuple((key, value) for key, value in self.answers if key not in SUITE_NEUTRAL)

    def __getitem__(self, key: str) -> object:
        return self.data[key]


@cache
def questions() -> dict[str, dict]:
    spec = yaml.safe_load(COPIER_YML.read_text())
    return {key: value for key, value in spec.items() if not key.startswith("_")}


def _choice_values(question: dict) -> list:
    choices = question["choices"]
    return list(choices.values()) if isinstance(choices, dict) else list(choices)


def answer_space(question: dict) -> list | None:
    """Every answer a question admits, or None for a free-text question."""
    if question.get("multiselect"):
        values = _choice_values(question)
        return [
            subset
            for size in range(1, len(values) + 1)
            for subset in itertools.combinations(values, size)
        ]
    if "choices" in question:
        return _choice_values(question)
    if question.get("type") == "bool":
        return [True, False]
    return None


def _is_computed(question: dict) -> bool:
    return question.get("when") is False or str(question.get("when", "")).strip() == "false"


def _validator_message(question: dict, context: dict) -> str:
    validator = question.get("validator")
    if not validator:
        return ""
    env = SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
    return env.from_string(validator).render(context).strip()


@cache
def all_variants() -> list[Variant]:
    spaces = {
        name: space
        for name, question in questions().items()
        if not _is_computed(question) and (space := answer_space(question)) is not None
    }
    variants = []
    for combination in itertools.product(*spaces.values()):
        answers = dict(zip(spaces, combination, strict=True))
        context = {key: list(v) if isinstance(v, tuple) else v for key, v in answers.items()}
        if any(_validator_message(questions()[key], context) for key in answers):
            continue
        variants.append(Variant(answers=tuple(answers.items())))
    return variants


def distinct_suites() -> list[Variant]:
    """One variant per distinct test suite."""
    seen: dict[tuple, Variant] = {}
    for variant in all_variants():
        seen.setdefault(variant.suite_key, variant)
    return list(seen.values())


EVERY_TIER = ("unit", "integration", "e2e")


def with_every_tier(variant: Variant) -> Variant:
    """The variant with the same answers and every tier."""
    return Variant(
        answers=tuple((k, EVERY_TIER if k == "tiers" else v) for k, v in variant.answers)
    )


def suite_variants() -> list[Variant]:
    """The suites the meta-tests run: each distinct suite with every tier, and integration alone.

    A variant with fewer tiers is its every-tier sibling without the missing
    tiers' folders and declarations, with the same dependencies and settings
    otherwise (tests/test_render.py proves it of every variant): its tests are
    a subset of the sibling's, which run. Integration alone runs too, in the
    smallest project of each style, so that missing tier folders are exercised.
    """
    smallest = {smallest_variant().suite_key, smallest_variant(style="async").suite_key}
    return [
        variant
        for variant in distinct_suites()
        if tuple(variant["tiers"]) == EVERY_TIER or variant.suite_key in smallest
    ]


def default_variant() -> Variant:
    """The variant `copier copy --defaults` renders."""
    defaults = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in ((k, questions()[k].get("default")) for k, _ in all_variants()[0].answers)
    }
    return next(v for v in all_variants() if dict(v.answers) == defaults)


STYLES = ("sync", "async")


def fullest_variant(style: str) -> Variant:
    """The default answers in `style`: every part of the template, sync or async."""
    defaults = dict(default_variant().answers)
    return next(v for v in all_variants() if dict(v.answers) == {**defaults, "style": style})


def smallest_variant(style: str = "sync") -> Variant:
    """The fewest files: SQLite, no event bus, no recording, integration only, no CI."""
    wanted = {
        "database": "sqlite",
        "event_bus": "none",
        "http_recording": False,
        "tiers": ("integration",),
        "style": style,
        "ci": "none",
    }
    return next(v for v in all_variants() if dict(v.answers) == wanted)
