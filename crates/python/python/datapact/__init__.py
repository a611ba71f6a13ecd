"""datapact from Python: run scenarios of the data-contribution incentive simulator and get
their tables as ``pyarrow.Table`` s.

>>> import datapact
>>> run = datapact.run("baseline", set={"scenario.replications": 100})
>>> run.cells.num_rows                      # 961 cells x 3 mechanisms
2883
>>> df = run.to_polars("cells")              # needs polars

A run writes exactly the files ``datapact run`` writes (byte for byte), into ``out`` or, without
it, a temporary directory deleted with the ``Run``. Its tables are read back in Rust and handed to
pyarrow through the Arrow C Data Interface, without a copy. The simulation runs with the GIL
released; Ctrl-C stops it (``KeyboardInterrupt``). Errors are :class:`DatapactError` s carrying
the command line's messages (file, line, key) and its exit code.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import warnings
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from . import _native
from ._errors import (
    AppError,
    DatapactError,
    InterruptedRun,
    InvariantError,
    OutOfMemory,
    OutputError,
    ScenarioError,
    VerifyError,
)
from ._native import Scenario
from ._search import Search, calibrate, optimize

if TYPE_CHECKING:
    import polars
    import pyarrow

__version__: str = _native.VERSION

__all__ = [
    "AppError",
    "DatapactError",
    "InterruptedRun",
    "InvariantError",
    "OutOfMemory",
    "OutputError",
    "Run",
    "Scenario",
    "ScenarioError",
    "Search",
    "VerifyError",
    "DiffResult",
    "audit",
    "calibrate",
    "design_from_problem",
    "diff",
    "open",
    "optimize",
    "report",
    "run",
    "scenarios",
    "schema",
    "sensitivity",
    "sensitivity_wide",
    "validate",
    "verify",
]

#: What ``scenario`` may be: a path (str or ``os.PathLike``) to a TOML file, the name of an
#: embedded scenario (``"baseline"``, see :func:`scenarios`), TOML text, a dict of the same
#: structure as the file, or a :class:`Scenario` from :func:`validate`.
ScenarioLike = Union[str, "os.PathLike[str]", Mapping[str, Any], Scenario]

#: Overrides, as ``--set`` takes them: ``{"game.drift": 0.2}`` or ``["game.drift=0.2"]``.
Overrides = Union[Mapping[str, Any], Sequence[str], None]

# Tables in documentation order; a run lists the ones it recorded in its manifest.
_TABLE_ORDER = ("cells", "diagnostics", "contrasts", "rounds", "users", "events")


def _overrides(set: Overrides) -> list:
    """``set=`` as the extension takes it: ``(key, value)`` pairs (the value is serialized to
    TOML in Rust, numpy numbers and arrays included) or ``"key=value"`` strs as ``--set``."""
    if set is None:
        return []
    if isinstance(set, str):
        raise TypeError('set must be a dict {"game.drift": 0.2} or a list of "key=value" strings, not one str')
    if isinstance(set, Mapping):
        for key in set:
            if not isinstance(key, str):
                raise TypeError(f"set: keys must be str like 'game.drift', not {type(key).__name__}")
        return list(set.items())
    out = []
    for item in set:
        if not isinstance(item, str):
            raise TypeError(f'set: each override must be a "key=value" str, not {type(item).__name__}')
        out.append(item)
    return out


def _scenario_arg(scenario: ScenarioLike) -> Any:
    # Any mapping is a dict scenario (the extension reads dicts).
    if isinstance(scenario, Mapping) and not isinstance(scenario, dict):
        return dict(scenario)
    return scenario


def validate(scenario: ScenarioLike, *, set: Overrides = None) -> Scenario:
    """Load and check a scenario (with ``set`` overrides applied) without running it, like
    ``datapact validate``. Raises :class:`ScenarioError` naming the file, line and key."""
    return _native.load(_scenario_arg(scenario), _overrides(set))


def _progress_callback(progress: bool) -> Tuple[Optional[Callable[[int, int], None]], Callable[[], None], bool]:
    """(callback for the run, closer, whether the runner should draw its own bar on stderr).
    tqdm when installed (a widget in notebooks); otherwise the runner's terminal bar."""
    if not progress:
        return None, lambda: None, False
    try:
        with warnings.catch_warnings():
            # tqdm.auto warns when a notebook has no ipywidgets; it then falls back to text.
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        return None, lambda: None, True
    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit="cell", desc="datapact")
        b = bar["bar"]
        if done > b.n:
            b.update(done - b.n)

    def close() -> None:
        if "bar" in bar:
            bar["bar"].close()

    return update, close, False


def run(
    scenario: ScenarioLike,
    *,
    set: Overrides = None,
    out: Union[str, "os.PathLike[str]", None] = None,
    threads: Optional[int] = None,
    trace: Optional[str] = "cells",
    progress: bool = True,
    resume: bool = False,
    app: Union[str, "os.PathLike[str]", None] = None,
) -> Run:
    """Run a scenario, as ``datapact run`` does, and return its :class:`Run`.

    scenario
        A path, an embedded scenario's name (``"baseline"``), TOML text, a dict, or a
        :class:`Scenario`. A path on disk wins over an embedded name, as on the command line.
    set
        Overrides of scenario keys, like ``--set``: ``{"scenario.replications": 100}``. Values
        may be any real or integral number (numpy scalars and 0-d arrays too), str, bool, list
        (or 1-d numpy array) or dict.
    out
        Output directory; it receives the same files as ``datapact run --out``. Without it, a
        temporary directory that is deleted when the returned ``Run`` is.
    threads
        Worker threads; all cores when ``None``.
    trace
        ``"cells"``, ``"rounds"`` (plus one row per campaign), ``"users"`` (plus one row per
        user of every campaign) or ``"events"`` (plus every event): sets ``output.trace``. ``None`` keeps the scenario's own.
    progress
        Show a progress bar: tqdm when installed, else the command line's bar on a terminal.
    resume
        Keep the complete chunks an interrupted run left in ``out`` and compute only the rest
        (``datapact run --resume``); the outputs equal those of an uninterrupted run.
    app
        A researcher's app: the binary of a crate built on datapact's ``App`` with its plugins
        (``datapact new``, ``examples/deposit``). The run is then ``APP run`` in a subprocess, so
        plugin mechanisms, strategies and metrics run without building this package again; the
        returned :class:`Run` reads the app's outputs through the same verified view. ``set=``
        values are serialized as without ``app``; a dict scenario is written to a temporary TOML
        file. No progress bar is drawn (``progress`` is ignored). A failure raises
        :class:`AppError` with the app's exit code and message.

    Raises :class:`ScenarioError` for a bad scenario (before any work), :class:`OutputError`
    when ``out`` holds another scenario's outputs or cannot be written, ``KeyboardInterrupt``
    on Ctrl-C (finished chunks stay in ``out``; ``resume=True`` continues).
    """
    overrides = _overrides(set)
    if trace is not None:
        overrides.append(("output.trace", trace))
    if app is not None:
        return _run_app(os.fspath(app), scenario, overrides, out, threads, resume)
    loaded = _native.load(_scenario_arg(scenario), overrides)
    directory, owned = _out_directory(out, resume)
    try:
        update, close, stderr_bar = _progress_callback(progress)
        try:
            summary = _native.run(loaded, str(directory), threads, stderr_bar, update, resume)
        finally:
            close()
        return Run(directory, summary=summary, _owned=owned)
    except KeyboardInterrupt:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
            raise KeyboardInterrupt(
                "datapact.run interrupted; its temporary directory was deleted (give out= to keep "
                "finished chunks and continue later with resume=True)"
            ) from None
        raise KeyboardInterrupt(
            f"datapact.run interrupted; finished chunks are kept in {str(directory)!r}: "
            f"datapact.run(<same scenario and set>, out={str(directory)!r}, resume=True) continues"
        ) from None
    except BaseException:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
        raise


def _out_directory(out: Any, resume: bool) -> Tuple[Path, bool]:
    """``run``'s output directory (absolute) and whether it is a temporary one the Run owns."""
    owned = out is None
    if owned and resume:
        raise ValueError("resume=True needs out= (the directory the interrupted run wrote into)")
    if not owned and os.fspath(out) == "":
        raise ValueError('out="" is no directory: give a path (or None for a temporary directory)')
    directory = Path(tempfile.mkdtemp(prefix="datapact-")) if owned else Path(os.path.abspath(os.fspath(out)))
    return directory, owned


def _run_app(app: str, scenario: ScenarioLike, overrides: list, out: Any, threads: Optional[int], resume: bool) -> "Run":
    """``datapact.run(..., app=APP)``: ``APP run`` in a subprocess, then its outputs as a Run."""
    import builtins
    import subprocess

    text, sets = _native.app_args(_scenario_arg(scenario), overrides)
    directory, owned = _out_directory(out, resume)
    with tempfile.TemporaryDirectory(prefix="datapact-app-") as scratch:
        if text is not None:
            source = os.path.join(scratch, "scenario.toml")
            with builtins.open(source, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            source = os.fspath(scenario)
        command = [app, "run", source, "--out", str(directory), "--quiet"]
        command += [arg for s in sets for arg in ("--set", s)]
        if threads is not None:
            command += ["--threads", str(int(threads))]
        if resume:
            command.append("--resume")
        try:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except KeyboardInterrupt:
            if owned:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        except OSError as e:
            if owned:
                shutil.rmtree(directory, ignore_errors=True)
            raise AppError(f"{app}: cannot be run: {e}") from None
    if done.returncode != 0:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
        if done.returncode in (130, 143):
            if owned:
                raise KeyboardInterrupt(f"{app} run interrupted; its temporary directory was deleted (give out= to keep finished chunks)")
            raise KeyboardInterrupt(f"{app} run interrupted; finished chunks are kept in {str(directory)!r} (resume=True continues)")
        error = AppError(done.stderr.strip() or f"{app} exited with {done.returncode}")
        error.exit_code, error.stderr, error.command = done.returncode, done.stderr, command
        raise error
    return Run(directory, _owned=owned)


def open(dir: Union[str, "os.PathLike[str]"], *, verify: bool = True) -> Run:
    """Open the outputs of an earlier run (of ``datapact run`` or :func:`run`). With ``verify``
    (the default), every file is first checked against ``manifest.json`` like ``datapact
    verify``; :class:`VerifyError` names what is missing or damaged."""
    if os.fspath(dir) == "":
        raise ValueError('"" is no run directory')
    directory = Path(os.path.abspath(os.fspath(dir)))
    if verify:
        _native.verify(str(directory))
    return Run(directory)


RunLike = Union["Run", str, "os.PathLike[str]"]


def _run_dir(run: RunLike) -> str:
    if isinstance(run, Run):
        return str(run.dir)
    path = os.fspath(run)
    if path == "":
        raise ValueError('"" is no run directory')
    return os.path.abspath(path)


def _out_dir(out: Union[str, "os.PathLike[str]", None]) -> Optional[str]:
    if out is None:
        return None
    path = os.fspath(out)
    if path == "":
        raise ValueError('out="" is no directory: give a path')
    return os.path.abspath(path)


def verify(dir: RunLike) -> int:
    """Check every file of a run against its ``manifest.json`` (``datapact verify``); returns
    the number of files checked, or raises :class:`VerifyError` naming what is missing, damaged
    or unexpected."""
    return _native.verify(_run_dir(dir))


def sensitivity(
    run: RunLike,
    metric: str = "welfare_mean",
    mechanism: Optional[str] = None,
    minus: Optional[str] = None,
    second_order: bool = False,
    *,
    out: Union[str, "os.PathLike[str]", None] = None,
) -> "pyarrow.Table":
    """Sobol indices (a ``kind = "sobol"`` design) or Morris effects (``kind = "morris"``) of a
    designed run, as ``datapact sensitivity``: one row per (mechanism, grid cell, axis, index)
    with ``value`` and ``conf`` (the half-width of its 95% bootstrap interval).

    metric
        A ``cells`` column, e.g. ``"welfare_mean"`` or ``"success_rate"``.
    mechanism, minus
        One mechanism (default: each of the run's), or the contrast ``mechanism - minus``.
    second_order
        Also ``S2`` of each pair of axes (``axis`` and ``axis2``), as SALib's
        ``sobol.analyze(calc_second_order=True)`` estimates them.
    out
        Also write ``sensitivity.parquet`` and the charts into this directory.

    :func:`sensitivity_wide` gives SALib's ``to_df()`` layout. Warns when a Sobol design's
    base sample count is not a power of 2 (the Sobol sequence loses its balance).
    """
    return _native.sensitivity(_run_dir(run), metric, mechanism, minus, second_order, _out_dir(out))


class DiffResult(NamedTuple):
    """What :func:`diff` returns."""

    table: "pyarrow.Table"
    """``diff.parquet``'s rows: each statistic of each cell and mechanism in A and B, B - A, z."""
    summary: List[Dict[str, Any]]
    """Per statistic: ``compared``, ``max_abs_z``, ``over_3``, ``over_threshold``."""
    cells: int
    max_abs_z: float
    over_threshold: int
    """Differences with |z| above the threshold: 0 when the runs agree within noise."""


def diff(a: RunLike, b: RunLike, *, z: float = 3.0, out: Union[str, "os.PathLike[str]", None] = None) -> DiffResult:
    """Compare two runs of the same grid cell by cell, as ``datapact diff``: for every statistic
    with an SE, B - A and z = diff / sqrt(se_a^2 + se_b^2). Raises :class:`OutputError` when the
    runs are not the same grid. With ``out``, also writes ``diff.parquet`` there."""
    return DiffResult(*_native.diff(_run_dir(a), _run_dir(b), float(z), _out_dir(out)))


def report(results: RunLike, *, out: Union[str, "os.PathLike[str]", None] = None) -> Dict[str, Any]:
    """Render the runs under ``results`` (one run, or a directory of runs such as
    ``datapact reproduce``'s) into ``out`` (default ``results/report``), as ``datapact report``:
    ``index.html``, ``REPORT.md``, figures. Returns ``dir``, ``index``, ``figures`` (PNG
    paths), ``claims`` (the paper's claims with their verdicts, when its runs are there),
    ``missing``, ``notes``, ``other_runs`` and ``findings``."""
    where = _run_dir(results)
    return _native.report(where, _out_dir(out) or os.path.join(where, "report"))


def audit(
    out: Union[str, "os.PathLike[str]"],
    *,
    spec: Union[str, "os.PathLike[str]", None] = None,
    threads: Optional[int] = None,
    progress: bool = True,
    resume: bool = False,
) -> Dict[str, Any]:
    """The incentive audit (``datapact audit``): unilateral deviations, best-response dynamics
    and the paper's claims under model variants, written to ``out`` (``REPORT.md``). ``spec``
    is an audit settings file (default: the embedded ``audit.toml``). Ctrl-C stops it within
    about a second, inside a cell (``KeyboardInterrupt``; nothing half-written); ``resume=True``
    (``--resume``) then continues it into the same ``out`` with the same ``spec``, keeping the
    cells every phase finished and the finished claim runs. Returns ``report`` (the path
    of ``REPORT.md``), ``variants`` (variant id -> its claims) and ``seconds``."""
    where = _out_dir(out)
    assert where is not None
    return _native.audit(where, None if spec is None else os.fspath(spec), threads, progress, resume)


def design_from_problem(
    problem: Mapping[str, Any], *, kind: str = "sobol", samples: int = 1024, calc_second_order: bool = True
) -> Dict[str, Any]:
    """A ``[design]`` table from a SALib ``problem`` dict (``names`` are scenario keys such as
    ``"game.value"``, ``bounds`` their ``[from, to]``), for a dict scenario or ``set=``:

    >>> problem = {"num_vars": 2, "names": ["game.value", "game.payment"], "bounds": [[0, 0.3], [0, 0.3]]}
    >>> datapact.run("baseline", set={"sweep": {}, "design": datapact.design_from_problem(problem, samples=256)})

    ``kind`` is ``"sobol"`` (Saltelli's layout, as ``SALib.sample.sobol``), ``"morris"`` or
    ``"lhs"``; ``samples`` is N (base samples, trajectories or points). ``calc_second_order=False``
    (Sobol only, SALib's argument of that name) writes ``second_order = false``: N·(D + 2) points,
    S1 and ST without S2."""
    names = list(problem["names"])
    bounds = [list(b) for b in problem["bounds"]]
    if len(names) != len(bounds) or ("num_vars" in problem and problem["num_vars"] != len(names)):
        raise ValueError("problem: names, bounds and num_vars disagree")
    if problem.get("dists") is not None:
        raise ValueError("problem: only uniform inputs (no 'dists') map to a datapact design")
    design: Dict[str, Any] = {"kind": kind, "samples": samples}
    if not calc_second_order:
        design["second_order"] = False
    for name, b in zip(names, bounds):
        if len(b) != 2:
            raise ValueError(f"problem: bounds of {name!r} must be [low, high]")
        design[name] = {"from": b[0], "to": b[1]}
    return design


def sensitivity_wide(table: "pyarrow.Table") -> Dict[str, "pyarrow.Table"]:
    """The long table of :func:`sensitivity` in SALib's ``to_df()`` layout: ``{"S1": ..., "ST":
    ..., "S2": ...}`` (Sobol) or ``{"mu_star": ...}`` (Morris), each with one row per
    (mechanism, grid cell, axis or pair) and the columns ``S1``, ``S1_conf`` (and so on)."""
    import pyarrow as pa

    rows = table.to_pylist()
    groups = {"S1": ("S1", "ST"), "S2": ("S2",), "mu_star": ("mu_star", "mu", "sigma")}
    out: Dict[str, "pyarrow.Table"] = {}
    for name, indices in groups.items():
        keyed: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
        for r in rows:
            if r["index"] not in indices:
                continue
            key = (r["mechanism"], r["grid_cell"], r["axis"], r.get("axis2"))
            row = keyed.setdefault(
                key,
                {"mechanism": r["mechanism"], "grid_cell": r["grid_cell"], "axis": r["axis"]}
                | ({"axis2": r["axis2"]} if name == "S2" else {}),
            )
            row[r["index"]] = r["value"]
            row[r["index"] + "_conf"] = r["conf"]
        if keyed:
            # SALib prints S1 and ST side by side in one frame.
            out["S1" if name == "S1" else name] = pa.Table.from_pylist(list(keyed.values()))
    return out


def schema(swept: Iterable[str] = (), *, network: bool = False) -> Dict[str, "pyarrow.Schema"]:
    """The Arrow schema of every output table (``datapact schema``), with ``swept`` as the
    swept columns, and with ``network=True`` the columns a run whose scenario has a
    ``[population.network]`` adds (``degree``, ``cascade``, ``trigger``, ...). Each field's
    metadata holds its ``description``."""
    return _native.schema(list(swept), network)


def scenarios() -> Dict[str, str]:
    """The embedded scenarios: name -> one-line description. Any of the names can be passed to
    :func:`run` and :func:`validate`."""
    return {name: description for name, description, _text in _native.scenarios()}


class Run:
    """The outputs of one run: a directory of Parquet parts and its ``manifest.json``.

    The tables it recorded (:attr:`tables`) are ``pyarrow.Table`` s, read on first access and
    kept: :attr:`cells`, :attr:`diagnostics`, :attr:`rounds` (with ``trace="rounds"``),
    :attr:`users` (with ``trace="users"``), :attr:`events` (with ``trace="events"``), and any
    other by :meth:`table`.
    """

    dir: Path
    """The output directory."""
    manifest: Dict[str, Any]
    """``manifest.json``: scenario, version, seed, sweep, row counts, part checksums."""
    summary: Optional[Dict[str, Any]]
    """For a run just made: cells computed, seconds, and per mechanism the means over cells of
    success rate, welfare and leakage (the command line's summary table). ``None`` when opened."""

    def __init__(self, dir: Union[str, "os.PathLike[str]"], *, summary: Optional[Dict[str, Any]] = None, _owned: bool = False) -> None:
        # Absolute: the tables stay this run's after an os.chdir.
        self.dir = Path(os.path.abspath(os.fspath(dir)))
        manifest = self.dir / "manifest.json"
        try:
            if not stat.S_ISREG(os.stat(manifest).st_mode):
                # A FIFO or a device would block or never end.
                raise OutputError(f"{manifest}: not a regular file")
            self._manifest_text = manifest.read_text(encoding="utf-8")
            self.manifest = json.loads(self._manifest_text)
        except FileNotFoundError:
            raise OutputError(f"{manifest}: no manifest: the run has not finished (see `datapact status`)") from None
        except (OSError, ValueError) as e:
            if isinstance(e, OutputError):
                raise
            raise OutputError(f"{manifest}: unreadable: {e}") from None
        self.summary = summary
        self._cache: Dict[str, "pyarrow.Table"] = {}
        self._owned = _owned
        if _owned:
            # A temporary directory lives exactly as long as its Run.
            weakref.finalize(self, shutil.rmtree, str(self.dir), True)

    @property
    def tables(self) -> Tuple[str, ...]:
        """The tables this run recorded, in documentation order."""
        recorded = list(self.manifest.get("rows", {}))
        known = [t for t in _TABLE_ORDER if t in recorded]
        return tuple(known + sorted(t for t in recorded if t not in _TABLE_ORDER))

    @property
    def scenario(self) -> Scenario:
        """The effective scenario the outputs were made with (a listed design's points read
        from the run's ``design_points.parquet``, which its canonical text names)."""
        return _native.load_run_scenario(self.manifest["scenario"], str(self.dir))

    @property
    def swept_columns(self) -> Tuple[str, ...]:
        """The swept columns of every table, in grid order (first varies slowest)."""
        return tuple(column for _key, column in self.manifest.get("sweep", []))

    def table(self, name: str) -> "pyarrow.Table":
        """The table ``name`` as a ``pyarrow.Table`` (all its parts, in order). ``KeyError``
        if this run did not record it (``rounds``, ``users`` and ``events`` need a deeper
        ``trace``)."""
        if name not in self._cache:
            if name not in self.tables:
                raise KeyError(
                    f"this run recorded no {name!r} table (it has {', '.join(self.tables)}; trace = "
                    f"{self.manifest.get('trace')!r}): run with trace='rounds', 'users' or 'events' for more"
                )
            # Read through the verified view: the parts the manifest lists, matching it, and the
            # manifest still the one this Run holds (else OutputError, never another run's rows).
            self._cache[name] = _native.read_table(str(self.dir), name, list(self.swept_columns), self._manifest_text)
        return self._cache[name]

    def _attribute_table(self, name: str) -> "pyarrow.Table":
        try:
            return self.table(name)
        except KeyError as e:
            raise AttributeError(e.args[0]) from None

    @property
    def cells(self) -> "pyarrow.Table":
        """One row per cell x mechanism: means and standard errors over the replications."""
        return self._attribute_table("cells")

    @property
    def diagnostics(self) -> "pyarrow.Table":
        """One row per cell: the S-vs-M and M-vs-C diagnostics."""
        return self._attribute_table("diagnostics")

    @property
    def rounds(self) -> "pyarrow.Table":
        """One row per campaign x mechanism (``trace="rounds"`` or deeper)."""
        return self._attribute_table("rounds")

    @property
    def users(self) -> "pyarrow.Table":
        """One row per user of every campaign x mechanism: costs, burdens, decision, payment,
        privacy cost and utility (``trace="users"`` or ``"events"``)."""
        return self._attribute_table("users")

    @property
    def events(self) -> "pyarrow.Table":
        """One row per event of every campaign (``trace="events"``)."""
        return self._attribute_table("events")

    def __getattr__(self, name: str) -> "pyarrow.Table":
        # Tables added to datapact later (say `contrasts`) are attributes too.
        if name.startswith("_") or name in ("dir", "manifest", "summary", "experiments"):
            raise AttributeError(name)
        return self._attribute_table(name)

    def experiments(self, statistics: Optional[Sequence[str]] = None) -> "pyarrow.Table":
        """One row per point (cell) of the run, as EMA Workbench's experiments and outcomes side
        by side: the swept inputs, then each mechanism's statistics (``welfare_mean_M``, ...)
        and, when the run recorded contrasts, each contrast's (``welfare_diff_M_S``, ...); the
        last round of a dynamic run. ``statistics`` picks the ``cells`` columns (default: every
        mean and rate)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        def last_round(t: "pyarrow.Table") -> "pyarrow.Table":
            return t.filter(pc.equal(t["round"], pc.max(t["round"]))) if t.num_rows else t

        cells = last_round(self.cells)
        swept = list(self.swept_columns)
        if statistics is None:
            statistics = [c for c in cells.column_names if c.endswith("_mean") or c.endswith("_rate")]
        missing = [c for c in statistics if c not in cells.column_names]
        if missing:
            raise KeyError(f"no cells column {missing[0]!r}; it has {', '.join(cells.column_names)}")
        mechanisms = list(self.manifest.get("mechanisms", []))
        first = cells.filter(pc.equal(cells["mechanism"], mechanisms[0])).sort_by("cell")
        columns = {"cell": first["cell"], **{c: first[c] for c in swept}}
        for m in mechanisms:
            rows = cells.filter(pc.equal(cells["mechanism"], m)).sort_by("cell")
            for c in statistics:
                columns[f"{c}_{m}"] = rows[c]
        if "contrasts" in self.tables:
            contrasts = last_round(self.contrasts)
            diffs = [c for c in contrasts.column_names if c.endswith("_diff")]
            pairs = sorted({(a, b) for a, b in zip(contrasts["mechanism_a"].to_pylist(), contrasts["mechanism_b"].to_pylist())})
            for a, b in pairs:
                rows = contrasts.filter(
                    pc.and_(pc.equal(contrasts["mechanism_a"], a), pc.equal(contrasts["mechanism_b"], b))
                ).sort_by("cell")
                for c in diffs:
                    columns[f"{c}_{a}_{b}"] = rows[c]
        return pa.table(columns)

    def to_polars(self, name: str = "cells") -> "polars.DataFrame":
        """The table ``name`` as a ``polars.DataFrame`` (zero-copy from Arrow; needs polars)."""
        import polars

        frame = polars.from_arrow(self.table(name))
        assert isinstance(frame, polars.DataFrame)
        return frame

    def __dir__(self) -> Iterable[str]:
        return sorted(set(super().__dir__()) | set(self.tables))

    def __repr__(self) -> str:
        rows = ", ".join(f"{t}={self.manifest['rows'][t]}" for t in self.tables)
        return f"<datapact.Run {self.manifest.get('scenario_name')!r} in {str(self.dir)!r}: {rows}>"
