"""Type stubs of the Rust extension ``datapact._native`` (use the ``datapact`` package instead)."""

import os
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import pyarrow

VERSION: str

class Scenario:
    """A validated scenario: what ``datapact.validate`` returns and ``datapact.run`` runs."""

    @property
    def name(self) -> str:
        """``[scenario] name``."""
    @property
    def seed(self) -> int:
        """The master seed."""
    @property
    def replications(self) -> int:
        """Campaigns per cell and mechanism."""
    @property
    def mechanisms(self) -> List[str]:
        """The mechanisms, in canonical order (``"C"``, ``"S"``, ``"M"``)."""
    @property
    def sweep(self) -> List[Tuple[str, str, List[float]]]:
        """The grid axes: ``(key, output column, values)``, first axis slowest; a design's
        points are summarised by ``design``, not listed."""
    @property
    def design(self) -> Optional[Dict[str, Any]]:
        """``None`` without a design's points; else ``kind``, ``samples``, ``points``,
        ``second_order`` (Sobol) and ``axes`` (``key``, ``column``; ``from``, ``to``, ``log`` for a
        sampled kind)."""
    @property
    def cells(self) -> int:
        """Number of grid cells."""
    @property
    def campaigns(self) -> int:
        """cells x replications x mechanisms."""
    @property
    def trace(self) -> str:
        """``"cells"``, ``"rounds"`` or ``"events"``."""
    @property
    def hash(self) -> str:
        """Hex SHA-256 of the effective scenario (the hash written into every output)."""
    @property
    def origin(self) -> str:
        """Where it came from: a file path, ``<embedded>/NAME``, ``<string>`` or ``<dict>``."""
    @property
    def toml(self) -> str:
        """The effective scenario (defaults filled, overrides applied) as normalised TOML, a
        listed design's points inline (``hash`` is of the text a run stores, which names them by
        digest instead)."""

def load(scenario: Union[str, "os.PathLike[str]", Dict[str, Any], Scenario], overrides: List[Union[str, Tuple[str, Any]]]) -> Scenario: ...
def load_run_scenario(text: str, dir: str) -> Scenario: ...
def run(
    scenario: Scenario,
    out: str,
    threads: Optional[int],
    stderr_bar: bool,
    on_progress: Optional[Callable[[int, int], None]] = None,
    resume: bool = False,
) -> Dict[str, Any]: ...
def verify(dir: str) -> int: ...
def read_table(dir: str, name: str, swept: List[str], manifest: str) -> pyarrow.Table: ...
def schema(swept: List[str] = ..., network: bool = ...) -> Dict[str, pyarrow.Schema]: ...
def scenarios() -> List[Tuple[str, str, str]]: ...
def search(
    kind: str,
    file: Union[str, "os.PathLike[str]", Dict[str, Any]],
    overrides: List[str],
    out: str,
    threads: Optional[int],
    resume: bool,
) -> List[str]: ...
def main(args: List[str]) -> int: ...
def sensitivity(
    dir: str,
    metric: str,
    mechanism: Optional[str] = None,
    minus: Optional[str] = None,
    second_order: bool = False,
    out: Optional[str] = None,
) -> pyarrow.Table: ...
def diff(a: str, b: str, z: float, out: Optional[str] = None) -> Tuple[pyarrow.Table, List[Dict[str, Any]], int, float, int]: ...
def report(dir: str, out: str) -> Dict[str, Any]: ...
def audit(out: str, spec: Optional[str], threads: Optional[int], progress: bool, resume: bool = ...) -> Dict[str, Any]: ...

def app_args(scenario: Any, overrides: List[Any]) -> Tuple[Optional[str], List[str]]:
    """A dict scenario's TOML text (``None`` otherwise) and ``set=`` as ``--set`` strs, for
    ``run(..., app=APP)``."""
