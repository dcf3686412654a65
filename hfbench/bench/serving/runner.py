"""Run a serving benchmark against an OpenAI-compatible endpoint: one record per concurrency level.

``run_served(endpoint, concurrency=(1, 2, 4, 8), slo="ttft_ms=500,itl_ms=50")`` — the notebook's
entry (``hfbench run --endpoint URL`` the command line's):

1. ask the server what it serves and reports (``/v1/models``, version endpoints, headers);
2. load the model's tokenizer (``tokens``) and draw the seeded prompts (``prompts``);
3. warm up: the first request finds how this server fixes the output length (``output_length``);
4. per concurrency level, run the closed loop (``load``), count output tokens, compute the level's
   figures (``metrics``, goodput under the SLO) and append the level's record (``cell``) to the
   store — this function is the run's driver, and alone appends.

Levels already measured on this machine are skipped (``force=True`` measures them again). The
client sends no retries (a failure is recorded, not hidden in a retried request's timing).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from hfbench.bench.serving.cell import ServedCell, now_utc, served_record
from hfbench.bench.serving.load import run_level
from hfbench.bench.serving.metrics import RequestTiming, level_metrics
from hfbench.bench.serving.output_length import (
    OutputLengthChoice,
    choose_output_length,
    output_length_candidates,
)
from hfbench.bench.serving.prompts import Prompt, PromptSet, build_prompt_set
from hfbench.bench.serving.request import timed_request
from hfbench.bench.serving.slo import SLO, parse_slo
from hfbench.bench.serving.tokens import TokenCounter, token_counter
from hfbench.bench.serving.workloads import ServedWorkload
from hfbench.bench.store import ResultStore
from hfbench.core.errors import BenchmarkError
from hfbench.providers.openai_apis import SERVED_APIS, ServedAPI
from hfbench.providers.request import GenerationRequest

T = TypeVar("T")

#: Defaults of a level: requests = max(MIN_REQUESTS, REQUESTS_PER_SLOT x concurrency).
MIN_REQUESTS = 8
REQUESTS_PER_SLOT = 4


@dataclass(frozen=True)
class ServingOptions:
    """How a serving benchmark loads the server (one config dataclass for the unit).

    Attributes:
        concurrency: the levels: requests in flight at once.
        slo: the per-request limits goodput counts against.
        input_tokens: prompt length (tokens of the prompt text, before any chat template).
        output_tokens: answer length, fixed by the server's means (``output_length``).
        requests: requests per level (None: ``max(8, 4 x concurrency)``).
        max_duration_s: no new request of a level after this long.
        seed: the prompt draw's seed.
        fixed_output: ``auto`` or one of ``output_length.OUTPUT_LENGTH_METHODS``.
        warmup: warm-up requests before the first level (not measured; at least 1: it finds the
            output-length method).
        timeout_s: the most one request may take.
        tokenizer: the model's tokenizer (folder or Hub id) to count tokens with (None: the
            served model's id when it is a folder, else the server's usage).
        label: a name for the server's setup (part of the cell id; e.g. ``continuous-batching``).
    """

    concurrency: tuple[int, ...] = (1,)
    slo: SLO = field(default_factory=SLO)
    input_tokens: int = 64
    output_tokens: int = 32
    requests: int | None = None
    max_duration_s: float = 120.0
    seed: int = 0
    fixed_output: str = "auto"
    warmup: int = 1
    timeout_s: float = 300.0
    tokenizer: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not self.concurrency or any(not isinstance(c, int) or c < 1 for c in self.concurrency):
            problems.append(f"concurrency must be whole numbers >= 1, got {self.concurrency!r}")
        for name in ("input_tokens", "output_tokens", "warmup"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                problems.append(f"{name} must be a whole number >= 1, got {value!r}")
        if self.requests is not None and (not isinstance(self.requests, int) or self.requests < 1):
            problems.append(f"requests must be a whole number >= 1, got {self.requests!r}")
        for name in ("max_duration_s", "timeout_s"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be > 0 seconds, got {getattr(self, name)!r}")
        output_length_candidates(self.fixed_output)  # raises for an unknown name
        if problems:
            raise BenchmarkError("Invalid serving benchmark options: " + "; ".join(problems) + ".")

    def requests_for(self, concurrency: int) -> int:
        """Requests a level sends."""
        return self.requests or max(MIN_REQUESTS, REQUESTS_PER_SLOT * concurrency)


@dataclass
class ServedRun:
    """What a serving benchmark did.

    Attributes:
        endpoint: the API's base URL (no credentials).
        model: the served model.
        server: what the server reported (``ServerInfo.to_dict()``).
        results: the results folder.
        records: the level records this run wrote, in order.
        skipped: the levels already measured on this machine (their labels).
        wall_s: seconds the run took.
    """

    endpoint: str
    model: str
    server: dict[str, Any]
    results: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def failed(self) -> int:
        """Levels where no request succeeded."""
        return sum(1 for r in self.records if r.get("status") != "ok")

    @property
    def exit_code(self) -> int:
        """0 when every level measured something, else 1."""
        return 1 if self.failed else 0

    def describe(self) -> str:
        """One line: the endpoint, model, levels run and skipped, time, where the records are."""
        return (
            f"served {self.model} at {self.endpoint}: {len(self.records)} level(s) measured"
            f"{f', {self.failed} failed' if self.failed else ''}, {len(self.skipped)} already measured, "
            f"in {self.wall_s:.0f} s; results in {self.results}"
        )


def run_served(
    endpoint: str,
    model: str | None = None,
    *,
    capability: str = "chat",
    workloads: Sequence[ServedWorkload] | None = None,
    concurrency: Sequence[int] = (1,),
    slo: str | Mapping[str, Any] | SLO | None = None,
    results: str | os.PathLike[str] = "results",
    force: bool = False,
    api_key: str | None = None,
    api_key_env: str | None = None,
    suite: str = "served",
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> ServedRun:
    """Measure an OpenAI-compatible endpoint at each concurrency level; one record per level.

    Args:
        endpoint: the API's base URL (``http://127.0.0.1:8000/v1``; ``/v1`` is added to a bare host).
        model: the served model's name (None: the server's only model).
        capability: ``chat`` (chat completions) or ``text-generation`` (completions).
        workloads: several endpoints/output lengths instead (``workloads.served_workloads(suite)``).
        concurrency: the levels.
        slo: limits for goodput, ``"ttft_ms=500,itl_ms=50"`` (``slo.SLO_METRICS``).
        results: the results folder.
        force: measure levels this machine already measured.
        api_key: the key (else the variable named by ``api_key_env``, default ``OPENAI_API_KEY``).
        api_key_env: the environment variable holding the key.
        suite: the records' suite name.
        progress: called with a line per level (e.g. ``print``).
        **options: ``ServingOptions`` fields (``input_tokens``, ``output_tokens``, ``requests``,
            ``max_duration_s``, ``seed``, ``fixed_output``, ``warmup``, ``timeout_s``,
            ``tokenizer``, ``label``).

    Returns:
        A ``ServedRun`` (``exit_code`` is what ``hfbench run --endpoint`` exits with).

    Raises:
        ServerUnreachableError, ServedModelNotFoundError, ServerAuthError: the server cannot be
            benchmarked (each message says what to do).
        BenchmarkError: invalid options, a capability without a streamed endpoint, or a warm-up
            the server refused.
    """
    from hfbench.providers.openai_compatible import OpenAICompatibleProvider

    started = time.perf_counter()
    settings = ServingOptions(concurrency=tuple(int(c) for c in concurrency), slo=parse_slo(slo), **options)
    plan = list(workloads) if workloads else [ServedWorkload(capability, settings.output_tokens)]
    for workload in plan:
        api = SERVED_APIS.get(workload.capability)
        if api is None or not api.streams:
            raise BenchmarkError(
                f"A serving benchmark drives chat or text-generation (streamed endpoints), not "
                f"{workload.capability!r}."
            )
    config: dict[str, Any] = {"base_url": endpoint, "model": model, "timeout_s": settings.timeout_s}
    if api_key is not None:
        config["api_key"] = api_key
    if api_key_env is not None:
        config["api_key_env"] = api_key_env
    provider = OpenAICompatibleProvider(config)
    info = provider.server_info()
    served = provider.served_model
    run = ServedRun(info.base_url, served, info.to_dict(), Path(results))
    counter = token_counter(settings.tokenizer, served)
    for workload in plan:
        wanted = replace(settings, output_tokens=workload.output_tokens)
        _run_sync(
            _measure(provider, SERVED_APIS[workload.capability], wanted, counter, run, force, suite, progress)
        )
    run.wall_s = time.perf_counter() - started
    return run


def parse_concurrency(text: str | Sequence[int]) -> tuple[int, ...]:
    """``"1,2,4,8"`` -> ``(1, 2, 4, 8)`` (duplicates dropped, order kept).

    Raises:
        BenchmarkError: a level that is not a whole number >= 1.
    """
    parts = text.split(",") if isinstance(text, str) else list(text)
    levels: list[int] = []
    for part in parts:
        try:
            level = int(str(part).strip())
        except ValueError:
            level = 0
        if level < 1:
            raise BenchmarkError(f"Concurrency levels are whole numbers >= 1 (e.g. 1,2,4,8), got {text!r}.")
        levels.append(level)
    if not levels:
        raise BenchmarkError("Give at least one concurrency level (e.g. 1,2,4,8).")
    return tuple(dict.fromkeys(levels))


def _run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end, also where an event loop is already running (a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _measure(
    provider: Any,
    api: ServedAPI,
    settings: ServingOptions,
    counter: TokenCounter,
    run: ServedRun,
    force: bool,
    suite: str,
    progress: Callable[[str], None] | None,
) -> None:
    """Warm up, then measure each level of one workload and append its record."""
    import openai

    from hfbench.bench.fingerprint import fingerprint

    hardware = fingerprint()
    store = ResultStore(run.results)
    done = set() if force else store.finished(str(hardware["hardware_id"]))
    cells = [
        ServedCell(
            endpoint=run.endpoint,
            model=run.model,
            capability=api.capability,
            concurrency=level,
            input_tokens=settings.input_tokens,
            output_tokens=settings.output_tokens,
            requests=settings.requests_for(level),
            max_duration_s=settings.max_duration_s,
            seed=settings.seed,
            fixed_output=settings.fixed_output,
            label=settings.label,
            suite=suite,
        )
        for level in settings.concurrency
    ]
    todo = [cell for cell in cells if cell.cell_id not in done]
    run.skipped += [cell.label_text() for cell in cells if cell.cell_id in done]
    if not todo:
        return
    prompts = build_prompt_set(
        settings.warmup + sum(c.requests for c in todo),
        settings.input_tokens,
        seed=settings.seed,
        counter=counter,
    )
    client = provider.async_client(max_retries=0, timeout_s=settings.timeout_s)
    context = provider.call_context(api.endpoint)
    extra_fields: dict[str, Any] = {}

    async def send(prompt: Prompt, index: int, level_start: float) -> RequestTiming:
        request = GenerationRequest.build(
            prompt.text, capability=api.capability, max_tokens=settings.output_tokens, temperature=0.0
        )
        body = provider.request_body(request, api)
        body["extra_body"] = {**body.get("extra_body", {}), **extra_fields}
        timing = await timed_request(
            client, api, body, index=index, prompt_id=prompt.id, level_start=level_start, context=context
        )
        timing.input_tokens = prompt.input_tokens
        return timing

    async def probe(fields: dict[str, Any]) -> RequestTiming:
        extra_fields.clear()
        extra_fields.update(fields)
        timing = await send(prompts.prompts[0], 0, time.perf_counter())
        counter.count_outputs([timing])
        return timing

    async with client:
        choice = await choose_output_length(probe, settings.output_tokens, settings.fixed_output)
        extra_fields.clear()
        extra_fields.update(choice.fields())
        for index in range(1, settings.warmup):
            await send(prompts.prompts[index], index, time.perf_counter())
        offset = settings.warmup
        for cell in todo:
            level_prompts = prompts.slice(offset, cell.requests)
            offset += cell.requests
            record = await _level(
                cell, send, level_prompts, settings, counter, choice, prompts, hardware, run
            )
            record["serving"]["client"] = {
                "library": f"openai {openai.__version__}",
                "retries": 0,
                "timeout_s": settings.timeout_s,
            }
            store.append(record)
            run.records.append(record)
            if progress is not None:
                progress(level_line(record))


async def _level(
    cell: ServedCell,
    send: Any,
    prompts: Sequence[Prompt],
    settings: ServingOptions,
    counter: TokenCounter,
    choice: OutputLengthChoice,
    prompt_set: PromptSet,
    hardware: Mapping[str, Any],
    run: ServedRun,
) -> dict[str, Any]:
    """Measure one level and build its record."""
    started_at, started = now_utc(), time.perf_counter()
    level = await run_level(send, prompts, concurrency=cell.concurrency, max_duration_s=cell.max_duration_s)
    token_count = counter.count_outputs(level.requests)
    metrics = level_metrics(
        level.requests, concurrency=cell.concurrency, duration_s=level.duration_s, slo=settings.slo
    )
    lengths = [r.output_tokens for r in level.requests if r.ok]
    errors = [r.error for r in level.requests if r.error]
    serving = {
        "concurrency": cell.concurrency,
        "planned_requests": level.planned,
        "sent_requests": len(level.requests),
        "cut_short": level.cut_short,
        "metrics": metrics.to_dict(),
        "slo": settings.slo.to_dict(),
        "token_count": token_count,
        "output_length": {
            **choice.to_dict(),
            "observed_min": min(lengths, default=None),
            "observed_max": max(lengths, default=None),
            "honoured": bool(lengths) and all(n == cell.output_tokens for n in lengths),
        },
        "prompts": {**prompt_set.describe(), "ids": [p.id for p in prompts]},
        "errors": sorted(set(errors))[:5],
        "requests": [r.to_dict() for r in level.requests],
    }
    endpoint = {"url": run.endpoint, "api": f"/v1{cell_api_path(cell)}", "server": run.server}
    return served_record(
        cell,
        hardware=hardware,
        endpoint=endpoint,
        serving=serving,
        started_at=started_at,
        wall_s=time.perf_counter() - started,
        error=None if metrics.completed else (errors[0] if errors else "no request was sent"),
    )


def cell_api_path(cell: ServedCell) -> str:
    """The endpoint path a served cell drives (``/chat/completions``)."""
    return SERVED_APIS[cell.capability].endpoint


def level_line(record: Mapping[str, Any]) -> str:
    """``c=4: TTFT p50 1.21s p90 2.0s, ITL p50 62ms, 15.1 tok/s, 0.47 req/s, goodput 0.12 req/s``."""
    serving = record.get("serving") or {}
    metrics = serving.get("metrics") or {}

    def ms(block: Any, key: str) -> str:
        value = (block or {}).get(key)
        return "-" if value is None else (f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s")

    if record.get("status") != "ok":
        return f"c={serving.get('concurrency')}: failed ({(record.get('error') or {}).get('message')})"
    return (
        f"c={metrics['concurrency']}: {metrics['completed']}/{serving.get('sent_requests')} ok, "
        f"TTFT p50 {ms(metrics['ttft_s'], 'median')} p90 {ms(metrics['ttft_s'], 'p90')}, "
        f"ITL p50 {ms(metrics['itl_s'], 'median')}, TPOT p50 {ms(metrics['tpot_s'], 'median')}, "
        f"{metrics['output_tokens_per_s']:.1f} tok/s, {metrics['request_throughput_per_s']:.2f} req/s, "
        f"goodput {metrics['goodput_per_s']:.2f} req/s"
    )
