"""Notebook widgets: ``ModelPicker``, which model to run for a job on this (or another) machine.

``hb.widgets.ModelPicker()`` is an ipywidgets box: a capability dropdown, a size-tier toggle
(or ``auto``: the largest tier that fits), the hardware (this machine or a what-if preset); the
registry's recommendation with a *fits* / *doesn't fit* badge and what was measured of it here
(from a tuned file or a results folder; "not measured here" otherwise); the alternatives the
registry tried, with why each was rejected; a "benchmark it here" button that measures the
recommendation on this machine (``hfbench.bench.run`` on a one-cell suite, with a progress bar)
and a "use this model" button that makes ``picker.provider``.

All of it is plain Python state behind the controls, so it is testable without a browser: set
``picker.capability = "embeddings"`` (or ``picker.capability_control.value``) and read
``picker.recommendation``, ``picker.fits``, ``picker.badge_view.value`` …. Showing a
recommendation never downloads or loads a model; only the two buttons touch one.

Example:
    >>> import hfbench as hb
    >>> picker = hb.widgets.ModelPicker("summarization", hardware="laptop-16gb")   # doctest: +SKIP
    >>> picker                                   # the widget, in a notebook    # doctest: +SKIP
    >>> picker.tier = "tiny"; picker.recommendation.model_name, picker.fits      # doctest: +SKIP
    >>> picker.benchmark(); llm = picker.use(temperature=0)                       # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from hfbench.core.capability import canonical_capability
from hfbench.core.errors import NoSuitableModelError, UnsupportedCapabilityError
from hfbench.core.hardware import SystemInfo
from hfbench.display import (
    badge,
    candidate_why,
    candidates_table,
    chosen_summary,
    measured_text,
    tuned_figures_row,
)
from hfbench.registry import CapabilityRegistry, hardware_facts, hardware_presets, hardware_profile
from hfbench.registry.tiers import AUTO_TIER, SIZE_TIERS, check_tier, tier_for_params

if TYPE_CHECKING:
    import pandas as pd

    from hfbench.bench.runner import RunSummary
    from hfbench.providers.interface import AbstractLLMInterface
    from hfbench.registry.explanation import CandidateCheck, RecommendationExplanation
    from hfbench.registry.recommendation import ModelRecommendation

__all__ = ["MEASURED_STATUSES", "THIS_MACHINE", "Measurement", "ModelPicker"]

#: The hardware choice that means the machine the kernel runs on.
THIS_MACHINE = "this machine"
#: Record statuses that are measurements (``failed`` and ``timeout`` measured nothing).
MEASURED_STATUSES = ("ok", "oom", "too_slow")
#: What the progress bar counts: suite built, cell measured, picker refreshed.
_BENCH_STEPS = 3


@dataclass(frozen=True)
class Measurement:
    """What was measured of a model for a capability on the selected hardware.

    Attributes:
        source: where it came from: ``tuned file`` or ``results folder <path>``.
        status: the cell's status (``ok``, ``oom`` or ``too_slow``).
        row: the figures, as ``load_results`` columns (``latency_median_s``, ``model_mb``,
            ``quality_value`` …).
    """

    source: str
    status: str
    row: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """``latency 1.41s · TTFT 156ms · 24.8 tok/s · 595 MiB · EM 45.0 [25.0,70.0] (n=20) · conf 0.45``,
        or the reason an ``oom`` / ``too_slow`` cell gives."""
        if self.status == "ok":
            return measured_text(self.row)
        reason = self.row.get("error") or "(no reason recorded)"
        return f"{self.status.replace('_', ' ')}: {reason}"


class ModelPicker(w.VBox):
    """Pick a model for a capability, tier and hardware; see what was measured; benchmark or use it.

    Args:
        capability: the job (a capability name or alias).
        tier: a size tier, or ``auto`` (the largest that fits the hardware).
        hardware: ``"this machine"``, a preset name (``hfbench.registry.hardware_presets()``) or a
            ``SystemInfo`` (``hardware_profile("my-box.toml")``), added to the choices.
        registry: where recommendations come from (default: hfbench's package defaults).
        tuned: a tuned recommendation file (``hb.bench.tune``); on this machine, its models and
            their measured figures take their slots (what-if hardware keeps the defaults).
        results: the results folder measured figures are read from and "benchmark it here"
            writes to.
        bench_settings: settings for the benchmark cell (e.g. ``{"max_duration_s": 5}``).
        executor: how the benchmark cell runs: ``local`` (its own process) or ``inline``.
        provider_config: more config for the provider "use this model" makes.

    Raises:
        UnsupportedCapabilityError: a capability the registry has no recommendation for.
        RecommendationError: an unknown tier or hardware preset (with did-you-mean).
    """

    def __init__(
        self,
        capability: str = "chat",
        tier: str = AUTO_TIER,
        hardware: str | SystemInfo = THIS_MACHINE,
        *,
        registry: CapabilityRegistry | None = None,
        tuned: str | os.PathLike[str] | None = None,
        results: str | os.PathLike[str] = "results",
        bench_settings: Mapping[str, Any] | None = None,
        executor: str = "local",
        provider_config: Mapping[str, Any] | None = None,
    ) -> None:
        base = registry if registry is not None else CapabilityRegistry()
        self.tuned = Path(tuned) if tuned is not None else None
        self._base_registry = base
        self._here_registry = base.with_tuned(self.tuned) if self.tuned is not None else base
        self.results = Path(results)
        self.bench_settings = dict(bench_settings or {})
        self.executor = executor
        self.provider_config = dict(provider_config or {})
        self.provider: AbstractLLMInterface | None = None
        self.last_run: RunSummary | None = None
        self.explanation: RecommendationExplanation | None = None
        self.measurement: Measurement | None = None
        self._profiles: dict[str, SystemInfo] = {}
        self._frame_key: tuple[int, int] | None = None
        self._frame: pd.DataFrame | None = None

        capabilities = list(dict.fromkeys([*base.capabilities(), *self._here_registry.capabilities()]))
        self.capability_control = w.Dropdown(
            options=capabilities,
            value=self._checked_capability(capability, capabilities),
            description="capability",
            style={"description_width": "initial"},
        )
        self.tier_control = w.ToggleButtons(
            options=[AUTO_TIER, *SIZE_TIERS],
            value=tier if tier == AUTO_TIER else check_tier(tier),
            description="tier",
            style={"description_width": "initial", "button_width": "76px"},
        )
        self.hardware_control = w.Dropdown(
            options=self._hardware_options(hardware),
            description="hardware",
            style={"description_width": "initial"},
            layout=w.Layout(width="auto"),
        )
        self.hardware_control.value = self._hardware_value(hardware)
        self.badge_view = w.HTML()
        self.recommendation_view = w.HTML()
        self.alternatives_view = w.HTML()
        self.benchmark_button = w.Button(description="benchmark it here", icon="play", layout=_wide_button())
        self.use_button = w.Button(description="use this model", icon="check", layout=_wide_button())
        self.progress = w.IntProgress(value=0, min=0, max=_BENCH_STEPS, layout=w.Layout(width="160px"))
        self.status_view = w.HTML()
        self.log_view = w.Output()
        for control, name in (
            (self.capability_control, "capability"),
            (self.tier_control, "tier"),
            (self.hardware_control, "hardware"),
            (self.badge_view, "fit"),
            (self.recommendation_view, "recommendation"),
            (self.alternatives_view, "alternatives"),
            (self.benchmark_button, "benchmark"),
            (self.use_button, "use"),
            (self.progress, "progress"),
            (self.status_view, "status"),
        ):
            control.add_class(f"hfbench-{name}")
        for control in (self.capability_control, self.tier_control, self.hardware_control):
            control.observe(self._on_change, names="value")
        self.benchmark_button.on_click(self._on_benchmark)
        self.use_button.on_click(self._on_use)
        super().__init__(
            [
                w.HBox([self.capability_control, self.hardware_control]),
                self.tier_control,
                self.badge_view,
                self.recommendation_view,
                w.HBox([self.benchmark_button, self.use_button, self.progress, self.status_view]),
                w.HTML("<b>Alternatives the registry tried</b>"),
                self.alternatives_view,
                self.log_view,
            ]
        )
        self.add_class("hfbench-picker")
        self.refresh()

    # ------------------------------------------------------------------ the choices
    @staticmethod
    def _checked_capability(capability: str, choices: list[str]) -> str:
        name = canonical_capability(capability)
        if name not in choices:
            raise UnsupportedCapabilityError(
                f"The registry has no recommendation for {name!r}; it has: {', '.join(choices)}."
            )
        return name

    def _hardware_options(self, hardware: str | SystemInfo) -> list[tuple[str, str]]:
        here = hardware_facts(_this_machine())
        memory = f"{here.model_memory_gb:.0f} GiB" if here.model_memory_gb is not None else "memory unknown"
        options = [(f"this machine ({here.facts.get('accelerator', '?')}, {memory})", THIS_MACHINE)]
        options += [(f"{name} (what-if)", name) for name in hardware_presets()]
        name = self._hardware_value(hardware)
        if name not in [v for _, v in options]:
            options.append((f"{name} (what-if)", name))
        return options

    def _hardware_value(self, hardware: str | SystemInfo) -> str:
        """The choice's value for a name or a ``SystemInfo`` (kept in ``_profiles``)."""
        if isinstance(hardware, SystemInfo):
            if hardware.name == THIS_MACHINE and not hardware.extra.get("profile"):
                return THIS_MACHINE
            self._profiles[hardware.name] = hardware
            return hardware.name
        if hardware != THIS_MACHINE and hardware not in self._profiles:
            self._profiles[hardware] = hardware_profile(hardware)  # raises with did-you-mean
        return hardware

    @property
    def capability(self) -> str:
        """The selected capability (canonical name); set it with a name or an alias."""
        return str(self.capability_control.value)

    @capability.setter
    def capability(self, value: str) -> None:
        self.capability_control.value = self._checked_capability(value, list(self.capability_control.options))

    @property
    def tier(self) -> str:
        """The selected size tier, or ``auto``."""
        return str(self.tier_control.value)

    @tier.setter
    def tier(self, value: str) -> None:
        self.tier_control.value = value if value == AUTO_TIER else check_tier(value)

    @property
    def hardware(self) -> str:
        """``this machine`` or the selected what-if profile's name."""
        return str(self.hardware_control.value)

    @hardware.setter
    def hardware(self, value: str | SystemInfo) -> None:
        name = self._hardware_value(value)
        if name not in [v for _, v in self.hardware_control.options]:
            self.hardware_control.options = [*self.hardware_control.options, (f"{name} (what-if)", name)]
        self.hardware_control.value = name

    @property
    def on_this_machine(self) -> bool:
        """Whether the selected hardware is the machine the kernel runs on."""
        return self.hardware == THIS_MACHINE

    @property
    def system(self) -> SystemInfo:
        """The selected hardware as a ``SystemInfo`` (this machine's, or a what-if profile)."""
        if self.on_this_machine:
            return _this_machine()
        if self.hardware not in self._profiles:
            self._profiles[self.hardware] = hardware_profile(self.hardware)
        return self._profiles[self.hardware]

    @property
    def registry(self) -> CapabilityRegistry:
        """The registry answering for the selected hardware (with the tuned file on this machine)."""
        return self._here_registry if self.on_this_machine else self._base_registry

    # ------------------------------------------------------------------ the answer
    @property
    def recommendation(self) -> ModelRecommendation | None:
        """The model the registry picks for the selection (None: nothing suitable)."""
        return self.explanation.chosen if self.explanation is not None else None

    @property
    def fits(self) -> bool:
        """Whether a model was found that fits the selected hardware (and did not run out of
        memory when it was measured here)."""
        return self.recommendation is not None and not (
            self.measurement is not None and self.measurement.status == "oom"
        )

    def refresh(self) -> None:
        """Ask the registry again and redraw (the controls call it when they change)."""
        self.explanation = self.registry.explain_recommendation(self.capability, self.tier, self.system)
        rec = self.explanation.chosen
        self.measurement = self.measured(rec.model_name, rec) if rec is not None else None
        self.badge_view.value = self._badge_html()
        self.recommendation_view.value = self._recommendation_html()
        self.alternatives_view.value = candidates_table(
            self.explanation.candidates, extra=(f"measured {self._where()}", self._measured_cell)
        )
        self.benchmark_button.disabled = rec is None or not self.on_this_machine
        self.benchmark_button.tooltip = (
            "measure this model here (hfbench.bench.run on one cell)"
            if self.on_this_machine
            else "switch the hardware to this machine to benchmark"
        )
        self.use_button.disabled = rec is None

    def measured(self, model: str, rec: ModelRecommendation | None = None) -> Measurement | None:
        """What was measured of ``model`` for the selected capability on the selected hardware:
        the tuned file's figures (``rec.measured``), else the latest measured record in the
        results folder; None when neither has it."""
        figures = (rec.measured or {}).get(self.capability) if rec is not None else None
        if figures and self.on_this_machine:
            return Measurement("tuned file", "ok", tuned_figures_row(figures))
        frame = self._results()
        if frame is None:
            return None
        rows = frame[
            (frame["model"] == model)
            & (frame["capability"] == self.capability)
            & (frame["hardware_id"] == self.system.hardware_id())
            & frame["status"].isin(MEASURED_STATUSES)
        ]
        if rows.empty:
            return None
        from hfbench.bench.tune_measured import clean

        row = rows.sort_values("finished_at", kind="stable", na_position="first").iloc[-1]
        values = {k: clean(v) for k, v in row.items()}
        return Measurement(f"results folder {self.results}", str(values["status"]), values)

    def _results(self) -> pd.DataFrame | None:
        """The results folder's table, re-read only when its records file changed."""
        from hfbench.bench.results import load_results
        from hfbench.bench.store import RECORDS_FILE

        path = self.results / RECORDS_FILE
        if not path.is_file():
            return None
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        if key != self._frame_key:
            self._frame, self._frame_key = load_results(self.results), key
        return self._frame

    def _measured_cell(self, check: CandidateCheck) -> str:
        found = self.measured(check.recommendation.model_name, check.recommendation)
        return found.describe() if found is not None else "-"

    def _where(self) -> str:
        return "here" if self.on_this_machine else f"on {self.hardware}"

    def _badge_html(self) -> str:
        """The fit badge and its one-line reason."""
        explanation = self.explanation
        assert explanation is not None
        available = hardware_facts(self.system).model_memory_gb
        of = f" ({available:.1f} GiB for models)" if available is not None else ""
        if explanation.chosen is None:
            first = explanation.rejected[0] if explanation.rejected else None
            why = "; ".join(first.reasons) if first is not None else "no model in this registry serves it"
            # "doesn't fit" only when memory was the problem (a model may also be too slow, or gated)
            label = "doesn't fit" if first is None or "memory" in first.failed_checks else "not suitable"
            return badge(label, "bad") + f" {_text(why)}"
        if self.measurement is not None and self.measurement.status == "oom":
            return badge("doesn't fit", "bad") + f" measured here: {_text(self.measurement.describe())}"
        chosen = next(c for c in explanation.candidates if c.accepted)
        needs = f"{candidate_why(chosen)}{of}"
        if not explanation.found_at_asked_tier:
            return badge(f"fits at tier {explanation.chosen_tier}", "warn") + _text(
                f" tier {explanation.size_tier} has nothing that fits; {needs}"
            )
        return badge("fits", "ok") + f" {_text(needs)}"

    def _recommendation_html(self) -> str:
        explanation = self.explanation
        assert explanation is not None
        rec = explanation.chosen
        if rec is None:
            return f"<pre>{_text(explanation.advice())}</pre>"
        slot = next(c.slot for c in explanation.candidates if c.accepted)
        lent = f" · listed under {slot}" if slot != explanation.capability else ""
        lines = [
            f"<div style='font-size:1.15em'><b>{_text(rec.model_name)}</b></div>",
            f"<div>{rec.params_b:g}B parameters · tier {tier_for_params(rec.params_b) or '?'}"
            f"{' · ' + _text(rec.license) if rec.license else ''}{_text(lent)}"
            f"{' · gated' if rec.gated else ''}</div>",
        ]
        how = chosen_summary(explanation)  # "(tier t), recipe …, context …, … tok/s estimated"
        how = how.split(")", 1)[1].lstrip(", ") if how.startswith("(tier") else how
        if how:
            lines.append(f"<div>runs as: {_text(how)}</div>")
        if self.measurement is not None:
            lines.append(
                f"<div><b>measured {self._where()}</b> ({_text(self.measurement.source)}): "
                f"{_text(self.measurement.describe())}</div>"
            )
        else:
            lines.append(f"<div><i>not measured {self._where()}</i></div>")
        if rec.notes:
            lines.append(f"<div style='opacity:0.8'>{_text(rec.notes)}</div>")
        return "".join(lines)

    def _on_change(self, _change: Mapping[str, Any]) -> None:
        self._report_errors(self.refresh)

    # ------------------------------------------------------------------ the buttons
    def benchmark(self, *, force: bool = False) -> RunSummary:
        """Measure the recommendation for the selected capability on this machine.

        Runs ``hfbench.bench.run`` on a one-cell suite (the recipe the registry chose, then
        ``bench_settings``; ``executor``) into ``results``, then redraws, so the measured figures
        appear. A cell already measured here
        is not measured again unless ``force``.

        Returns:
            The run's ``RunSummary`` (also ``picker.last_run``).

        Raises:
            NoSuitableModelError: nothing is recommended for the selection.
            RecommendationError: the selected hardware is a what-if profile, not this machine.
        """
        from hfbench.bench.runner import run
        from hfbench.bench.suites import Suite
        from hfbench.core.errors import RecommendationError

        rec = self._require_recommendation()
        if not self.on_this_machine:
            raise RecommendationError(
                f"Benchmarking measures this machine, but the hardware selected is {self.hardware!r}; "
                f"select {THIS_MACHINE!r} first."
            )
        settings = {**self._run_config(rec), **self.bench_settings}  # run as the registry would
        suite = Suite.from_models([rec.model_name], [self.capability], settings=settings, name="picker")
        self.progress.bar_style = "info"
        self._step(1, f"measuring {rec.model_name} for {self.capability} …")
        try:
            with self.log_view:
                summary = run(suite, results=self.results, executor=self.executor, force=force)
        except Exception:
            self.progress.bar_style = "danger"
            raise
        self.last_run = summary
        self._step(2, summary.describe())
        self.refresh()
        ok = not summary.records or all(r.get("status") == "ok" for r in summary.records)
        self.progress.bar_style = "success" if ok else "warning"
        self._step(_BENCH_STEPS, summary.describe())
        return summary

    def use(self, **config: Any) -> AbstractLLMInterface:
        """A provider for the recommendation (``picker.provider``); the model loads on its first call.

        Args:
            config: more provider config (``temperature``, ``max_tokens`` …), over
                ``provider_config``, over a tuned file's measured recipe, over the recipe the
                registry chose for this machine (``dtype``, ``quantization``).

        Raises:
            NoSuitableModelError: nothing is recommended for the selection.
        """
        from hfbench.providers import create_provider

        rec = self._require_recommendation()
        measured = dict((rec.recipe or {}).get("config", {}))  # a tuned file's measured recipe
        settings = {**self._run_config(rec), **measured, **self.provider_config, **config}
        settings["model"] = rec.model_name
        if self.tuned is not None and self.on_this_machine:
            settings.setdefault("tuned_recommendations", str(self.tuned))
        self.provider = create_provider("huggingface", settings)
        self.status_view.value = _text(
            f"picker.provider is ready: {rec.model_name} (loads on its first call, on this machine)"
        )
        return self.provider

    def _run_config(self, rec: ModelRecommendation) -> dict[str, Any]:
        """The config keys the lookup chose to run ``rec`` with here (``dtype``, ``quantization``),
        where the registry says so; a what-if machine's recipe is for that machine, not this one."""
        run_config = getattr(rec, "run_config", None)  # registries that choose recipes
        return dict(run_config()) if callable(run_config) and self.on_this_machine else {}

    def _require_recommendation(self) -> ModelRecommendation:
        if self.explanation is None or self.explanation.chosen is None:
            advice = self.explanation.advice() if self.explanation is not None else "nothing selected"
            raise NoSuitableModelError(advice, explanation=self.explanation)
        return self.explanation.chosen

    def _step(self, value: int, text: str) -> None:
        self.progress.value = value
        self.status_view.value = _text(text)

    def _on_benchmark(self, _button: Any) -> None:
        self._report_errors(self.benchmark)

    def _on_use(self, _button: Any) -> None:
        self._report_errors(self.use)

    def _report_errors(self, action: Any) -> None:
        """Run a button's action; show an error in the picker (a callback's traceback goes to the
        kernel's log, where nobody sees it)."""
        try:
            action()
        except Exception as exc:
            self.status_view.value = badge("error", "bad") + f" {_text(f'{type(exc).__name__}: {exc}')}"


def _wide_button() -> Any:
    return w.Layout(width="auto", min_width="150px", flex="0 0 auto")


def _this_machine() -> SystemInfo:
    from hfbench.core.hardware import system_info

    return system_info()


def _text(value: Any) -> str:
    import html

    return html.escape(str(value), quote=False)
