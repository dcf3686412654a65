"""A small hand-made set of exact-answer questions for chat models (nothing suitable ships in a package).

The questions live in ``hfbench/bench/data/chat_exact_answers.toml`` with the acceptable answers
and a note on how they were written; the set is marked ``hand_made`` in every record. Each item
carries the file's example turns as ``history`` (few-shot: question, short answer), so a model
sees the expected form of an answer before the question.
"""

from __future__ import annotations

import hfbench
from hfbench.bench.quality.datasets import SourceData, register_eval_set
from hfbench.bench.quality.items import EvalItem
from hfbench.core.datafiles import read_package_toml
from hfbench.core.errors import BenchmarkError
from hfbench.core.validation import Field, check_table, problems_message

DATA_FILE = "chat_exact_answers.toml"

_QUESTION_FIELDS = {
    "id": Field((str,), "Stable id.", required=True),
    "question": Field((str,), "The question, as the user asks it.", required=True),
    "answers": Field((list,), "Acceptable short answers (any one counts).", required=True),
}
_FILE_FIELDS = {
    "version": Field((int,), "File format version.", required=True, choices=(1,)),
    "licence": Field((str,), "The questions' licence.", required=True),
    "how_made": Field((str,), "How the questions were written and checked.", required=True),
    "question": Field((list,), "The questions.", required=True),
    "example": Field((list,), "Example turns shown before every question (few-shot)."),
}
_EXAMPLE_FIELDS = {
    "question": Field((str,), "An example question.", required=True),
    "answer": Field((str,), "Its answer, in the expected form.", required=True),
}


@register_eval_set("chat-exact-answers", capability="chat", metric="squad-exact-match", version=2)
def chat_exact_answers() -> SourceData:
    """Hand-made short factual questions (capitals, arithmetic, units) with one unambiguous short answer.

    Raises:
        BenchmarkError: the data file is invalid (every problem listed).
    """
    data = read_package_toml(DATA_FILE, package="hfbench.bench")
    table, problems = check_table(data, _FILE_FIELDS)
    rows = []
    for index, row in enumerate(table.get("question", [])):
        checked, found = check_table(row, _QUESTION_FIELDS, key_path=f"question[{index}]")
        problems += found
        rows.append(checked)
    history: list[list[str]] = []
    for index, row in enumerate(table.get("example", [])):
        example, found = check_table(row, _EXAMPLE_FIELDS, key_path=f"example[{index}]")
        problems += found
        history += [["user", example.get("question", "")], ["assistant", example.get("answer", "")]]
    if problems:
        raise BenchmarkError(problems_message(problems, what="eval data file", file=DATA_FILE))
    items = [
        EvalItem(r["id"], {"question": r["question"], "history": history}, [str(a) for a in r["answers"]])
        for r in rows
    ]
    return SourceData(
        items=items,
        package="hfbench",
        version=hfbench.__version__,
        registry="hfbench",
        files=(f"hfbench/bench/data/{DATA_FILE}",),
        licence=table["licence"],
        source="hfbench's own exact-answer questions",
        hand_made=True,
        how_made=table["how_made"],
    )
