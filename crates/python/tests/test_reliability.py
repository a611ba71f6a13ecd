"""Reliability of the extension (issue 25, item 10): damaged run metadata is an OutputError
naming the file; work that would not fit in the memory the process may take raises
MemoryError (datapact.OutOfMemory) instead of aborting the interpreter."""

import json
import subprocess
import sys
import textwrap

import pytest

import datapact
from datapact import OutOfMemory, OutputError


def _edited(field, value):
    def edit(good: bytes) -> bytes:
        record = json.loads(good)
        record[field] = value
        return json.dumps(record).encode()

    return edit


@pytest.mark.parametrize(
    "damage",
    [
        b"{ not json",
        b"",
        b"\xff\xfe garbage",
        b"[]",
        lambda good: good[: len(good) // 2],
        # A non-ASCII hash panicked in the runner, which the extension reported as an
        # InvariantError ("a bug").
        _edited("scenario_hash", "a" + "\u00e9" * 20),
        _edited("cells", "x"),
        _edited("cells", 10**15),
        _edited("shards", 0),
        _edited("chunk_cells", 0),
        _edited("mechanisms", None),
    ],
)
def test_a_damaged_run_json_is_an_output_error_naming_the_file(tmp_path, tiny, damage):
    out = tmp_path / "out"
    datapact.run("baseline", set=tiny, out=out, progress=False)
    good = (out / "_run.json").read_bytes()
    (out / "_run.json").write_bytes(damage(good) if callable(damage) else damage)
    for resume in (False, True):
        with pytest.raises(OutputError) as e:
            datapact.run("baseline", set=tiny, out=out, progress=False, resume=resume)
        # The file, or (a record of another scenario) the directory it is in.
        assert "_run.json" in str(e.value) or f"{out} holds outputs of" in str(e.value), str(e.value)
        assert not isinstance(e.value, datapact.InvariantError)
        assert e.value.exit_code in (1, 2)
    with pytest.raises(OutputError, match="_run.json"):
        datapact.open(out)


# A child interpreter under an address-space limit (RLIMIT_AS) that leaves `ROOM` bytes above its
# present size: what it prints is how the work ended. Before, reading a table (or starting a run)
# beyond the limit aborted the interpreter (SIGABRT: "memory allocation of N bytes failed").
CHILD = textwrap.dedent(
    """
    import resource, sys
    import datapact

    ROOM = 64 << 20

    def limit():
        with open("/proc/self/status") as f:
            size = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size + ROOM, resource.RLIM_INFINITY))

    mode, out = sys.argv[1], sys.argv[2]
    try:
        if mode == "open":
            run = datapact.open(out)
            limit()
            print("read", run.users.num_rows)
        else:
            limit()
            datapact.run("baseline", set={"population.users": 4_000_000, "scenario.replications": 2,
                         "sweep.game.value.steps": 1, "sweep.game.payment.steps": 1},
                         out=out, progress=False, threads=1)
            print("ran")
    except MemoryError as e:
        print("MemoryError", type(e).__name__, isinstance(e, datapact.DatapactError), e.exit_code, e)
    """
)


def _child(mode: str, out) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, mode, str(out)], capture_output=True, text=True, timeout=600)


def test_a_table_beyond_the_address_space_limit_raises_memory_error(tmp_path):
    out = tmp_path / "big"
    # 1 cell x 2 replications x 3 mechanisms x 200 000 users: 1.2 million rows of the users table.
    datapact.run(
        "baseline",
        set={"population.users": 200_000, "scenario.replications": 2, "sweep.game.value.steps": 1,
             "sweep.game.payment.steps": 1},
        trace="users",
        out=out,
        progress=False,
    )
    done = _child("open", out)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-2000:])
    assert done.stdout.startswith("MemoryError OutOfMemory True 1 "), done.stdout
    assert "table users of" in done.stdout and "RLIMIT_AS" in done.stdout, done.stdout
    # Without the limit the same table reads.
    assert datapact.open(out).users.num_rows == 1_200_000


def test_a_run_beyond_the_address_space_limit_raises_memory_error_before_anything_is_created(tmp_path):
    out = tmp_path / "never"
    done = _child("run", out)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-2000:])
    assert done.stdout.startswith("MemoryError OutOfMemory True 2 "), done.stdout
    assert "the run of" in done.stdout and "RLIMIT_AS" in done.stdout, done.stdout
    assert not out.exists()
