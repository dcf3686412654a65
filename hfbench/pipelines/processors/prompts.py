"""Instruction templates for general prompting, read from ``pipelines/data/prompts.toml``.

Templates are data: one table per capability, validated on load (known placeholders only,
``{text}`` required). ``prompt_for(capability)`` returns the capability's template, or the
``default`` one for capabilities without their own.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hfbench.core.datafiles import read_package_toml
from hfbench.core.errors import ConfigError

PLACEHOLDERS = frozenset({"text", "context", "labels", "label", "src_lang", "tgt_lang", "description"})
_FIELDS = (
    "instruction",
    "instruction_without_context",
    "instruction_multi_label",
    "instruction_per_label",
    "answer_prefix",
)
# A field label at the start of a line in an instruction ("Text:", "Question:", "English:").
_FIELD_LABEL = re.compile(r"^([A-Z][\w ]{0,30}):")
# Words of an instruction's first line that mark a base model starting the next example.
_INSTRUCTION_WORDS = 3
_FILE = "hfbench/pipelines/data/prompts.toml"


@dataclass(frozen=True)
class PromptTemplate:
    """One capability's instruction template.

    Attributes:
        name: the table it came from (a capability name, ``general`` or ``default``).
        instruction: the task and the input (placeholders in braces).
        answer_prefix: cue appended to raw (non-chat) prompts, e.g. ``Summary:``.
        instruction_without_context: question answering without a passage.
        instruction_multi_label: zero-shot classification with several labels allowed.
        instruction_per_label: one yes/no question per label (``{label}``), for multi-label
            classification by likelihood.
        max_tokens: a cap on generated tokens (short answers), or None.
        single_paragraph: the answer is one paragraph: on base models it ends at the first
            blank line after some text (summaries, short answers, labels).
    """

    name: str
    instruction: str
    answer_prefix: str = ""
    instruction_without_context: str | None = None
    instruction_multi_label: str | None = None
    max_tokens: int | None = None
    instruction_per_label: str | None = None
    single_paragraph: bool = False

    def instruction_for(self, *, has_context: bool = True, multi_label: bool = False) -> str:
        """The instruction variant for an input with/without context, single/multi label."""
        if multi_label and self.instruction_multi_label:
            return self.instruction_multi_label
        if not has_context and self.instruction_without_context:
            return self.instruction_without_context
        return self.instruction

    def render(
        self,
        fields: Mapping[str, str],
        *,
        chat: bool,
        has_context: bool = True,
        multi_label: bool = False,
        instruction: str | None = None,
    ) -> str:
        """The prompt text: the instruction, plus the answer prefix for raw (non-chat) prompts."""
        body = format_template(
            instruction or self.instruction_for(has_context=has_context, multi_label=multi_label), fields
        )
        if chat or not self.answer_prefix:
            return body
        return f"{body}\n\n{format_template(self.answer_prefix, fields)}"

    def stop_sequences(self, fields: Mapping[str, str]) -> list[str]:
        """Where a base model's answer to a raw prompt ends: where it starts writing the next
        example of the pattern the prompt sets up.

        A base (non-instruct) model continues the text: after ``Summary: ...`` it writes the
        instruction again, or a new ``Text:``. The stops are a new line starting with a field
        label of the instruction (``Text:``, ``Question:``, ``English:``), with the answer prefix
        (``Summary:``), or with the first words of the instruction (``Summarize the following``).
        The ``general`` template (the prompt is the input) has none.
        """
        if self.instruction.strip() == "{text}":
            return []
        stops: list[str] = []
        variants = [self.instruction, self.instruction_without_context, self.instruction_multi_label]
        for variant in (v for v in variants if v):
            lines = format_template(
                variant.replace("{text}", "").replace("{context}", ""), fields
            ).splitlines()
            first = " ".join(lines[0].split()[:_INSTRUCTION_WORDS]) if lines else ""
            if first:
                stops.append("\n" + first)
            stops += ["\n" + m.group(1) + ":" for line in lines if (m := _FIELD_LABEL.match(line.strip()))]
        prefix = format_template(self.answer_prefix, fields).strip()
        if prefix:
            stops.append("\n" + prefix)
        return list(dict.fromkeys(stops))

    def clean_answer(self, text: str, fields: Mapping[str, str]) -> str:
        """The answer without surrounding space, without the answer prefix repeated at its start,
        and (single-paragraph answers) without what follows its first blank line."""
        answer = text.strip()
        prefix = format_template(self.answer_prefix, fields).strip()
        if prefix and answer.lower().startswith(prefix.lower()):
            answer = answer[len(prefix) :].strip()
        if self.single_paragraph:
            answer = re.split(r"\n\s*\n", answer, maxsplit=1)[0].strip()
        return answer


def format_template(template: str, fields: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders; literal braces are written ``{{`` and ``}}``."""
    return template.format_map({name: fields.get(name, "") for name in PLACEHOLDERS})


def check_template(template: str, *, where: str, file: str | None = None, require_text: bool = True) -> None:
    """Raise ``ConfigError`` for unknown placeholders, positional ``{}`` or a missing ``{text}``."""
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        raise ConfigError(f"not a valid template ({exc}): {template!r}", key_path=where, file=file) from None
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        raise ConfigError(
            f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; valid ones are "
            f"{', '.join('{' + n + '}' for n in sorted(PLACEHOLDERS))}.",
            key_path=where,
            file=file,
        )
    if require_text and "text" not in names:
        raise ConfigError("a template must contain {text} where the input goes.", key_path=where, file=file)


def parse_templates(data: Mapping[str, Any], *, file: str | None = None) -> dict[str, PromptTemplate]:
    """Validate the ``[templates.*]`` tables of a prompts file and build the templates."""
    tables = data.get("templates")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError("expected [templates.<capability>] tables.", key_path="templates", file=file)
    templates: dict[str, PromptTemplate] = {}
    for name, table in tables.items():
        where = f"templates.{name}"
        if not isinstance(table, dict) or not isinstance(table.get("instruction"), str):
            raise ConfigError("needs an 'instruction' string.", key_path=where, file=file)
        unknown = sorted(set(table) - {*_FIELDS, "max_tokens", "single_paragraph"})
        if unknown:
            raise ConfigError(
                f"unknown field(s) {unknown}; valid: {[*_FIELDS, 'max_tokens', 'single_paragraph']}.",
                key_path=where,
                file=file,
            )
        if not isinstance(table.get("single_paragraph", False), bool):
            raise ConfigError("must be true or false.", key_path=f"{where}.single_paragraph", file=file)
        for field_name in _FIELDS:
            value = table.get(field_name)
            if value is None:
                continue
            if not isinstance(value, str):
                raise ConfigError("must be a string.", key_path=f"{where}.{field_name}", file=file)
            check_template(
                value, where=f"{where}.{field_name}", file=file, require_text=field_name != "answer_prefix"
            )
        max_tokens = table.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens <= 0):
            raise ConfigError("must be a positive integer.", key_path=f"{where}.max_tokens", file=file)
        templates[name] = PromptTemplate(
            name=name,
            instruction=table["instruction"],
            answer_prefix=table.get("answer_prefix", ""),
            instruction_without_context=table.get("instruction_without_context"),
            instruction_multi_label=table.get("instruction_multi_label"),
            max_tokens=max_tokens,
            instruction_per_label=table.get("instruction_per_label"),
            single_paragraph=bool(table.get("single_paragraph", False)),
        )
    for required in ("general", "default"):
        if required not in templates:
            raise ConfigError(
                f"the [templates.{required}] table is required.", key_path="templates", file=file
            )
    return templates


@lru_cache(maxsize=1)
def prompt_templates() -> dict[str, PromptTemplate]:
    """Every template in the package's ``prompts.toml``, by capability name."""
    return parse_templates(read_package_toml("prompts.toml", package="hfbench.pipelines"), file=_FILE)


def prompt_for(capability: str) -> PromptTemplate:
    """The template of a capability, or the ``default`` template when it has none of its own."""
    templates = prompt_templates()
    return templates.get(capability, templates["default"])
