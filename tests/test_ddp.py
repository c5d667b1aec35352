"""torchrun과 DDP로 bnref.course.examples.ddp_digits를 실제 프로세스에서: 결과, 실패, 남는 것 없음.

느린 검사(@slow)는 실제 ``torchrun``을 띄웁니다. 프로세스를 띄우는 비용(프로세스마다 torch를 불러옴)이
대부분이므로, 성공하는 실행은 ``run_commands`` 한 번에 모두 함께 띄우고(프로세스 1개, torchrun 2개·4개,
노드 2개 × 2개) 모든 비교가 그 결과를 나눠 씁니다. 실패하는 실행(한 랭크가 죽음, 한 노드가 오지 않음)은
따로 띄웁니다.

빠른 검사는 torch를 불러오지 않는 자식 프로세스로 ``run_commands``의 시간 초과·실패·정리를, 그리고
프로세스 하나 안에서 DistributedSampler가 프로세스 수와 상관없이 같은 전역 배치를 만드는지를 봅니다.
"""

import json
import re
import shlex
import socket
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import torch

from bnref.course.examples import ddp_digits
from bnref.course.launch import free_port, run_commands

SCRIPT = "-m bnref.course.examples.ddp_digits"
EPOCHS = 1
STEPS = 42  # 학습 데이터 1348개 ÷ 전역 배치 32, 나머지는 버림


def leftovers(token):
    """명령줄에 ``token``이 든 프로세스(좀비 제외). 부모가 바뀐 고아도 찾도록 시스템 전체에서 찾습니다."""
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and token in " ".join(p.info["cmdline"] or []):
                found.append((p.pid, " ".join(p.info["cmdline"])))
        except psutil.Error:
            continue
    return found


def listening(port):
    """127.0.0.1:``port``에서 누가 아직 연결을 기다리는지 (SO_REUSEADDR로 묶어 봄: TIME_WAIT는 무시)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def torchelastic_dirs():
    return set(Path(tempfile.gettempdir()).glob("torchelastic_*"))


# ---------------------------------------------------------------- fast: run_commands itself


def test_run_commands_returns_each_commands_stdout_in_order():
    outs = run_commands("python -c \"print('one')\"", ["python", "-c", "print('two')"])
    assert outs == ["one\n", "two\n"]


def test_a_failing_command_raises_with_the_end_of_its_stderr():
    with pytest.raises(RuntimeError, match=r"command 2 of 2 failed with exit status 3") as err:
        run_commands("python -c pass", "python -c \"import sys; print('planted failure', file=sys.stderr); sys.exit(3)\"")
    assert "planted failure" in str(err.value)


def test_a_hanging_command_times_out_and_its_detached_grandchild_is_killed_too(tmp_path):
    # The grandchild starts its own session, as torchrun's workers do: only the inherited marker finds it.
    started_file = tmp_path / "grandchild-started"
    grandchild = f"import pathlib, time; pathlib.Path({str(started_file)!r}).touch(); time.sleep(60)"
    child = (f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-S', '-c', {grandchild!r}], "
             "start_new_session=True); time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="did not finish in time"):
        run_commands(["python", "-S", "-c", child], timeout=1.0)  # -S: no site, a quicker start
    assert time.monotonic() - started < 15
    assert started_file.exists()  # it did run ...
    assert leftovers(str(started_file)) == []  # ... and it is gone


def test_torchrun_and_python_run_with_this_interpreter():
    from bnref.course.launch import _argv

    assert _argv("torchrun --standalone -m x")[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert _argv("python -m x --a 'b c'") == [sys.executable, "-m", "x", "--a", "b c"]


def test_free_port_is_free():
    assert not listening(free_port())


# ---------------------------------------------------------------- fast: the data split behind (b) = (c)


@pytest.mark.parametrize("world", [2, 4])
def test_the_ranks_batches_together_are_the_single_process_batches(world):
    # DistributedSampler takes every world-th index of one shuffled order: at step k the ranks together
    # hold the k-th block of that order, the samples of the one-process run's k-th batch.
    x, y = torch.arange(1348.0)[:, None], torch.zeros(1348, dtype=torch.long)
    single, sampler = ddp_digits.make_loader(x, y, 32, 1, 0, seed=3)
    sampler.set_epoch(1)
    want = [sorted(b[0].flatten().tolist()) for b in single]
    per_rank = []
    for rank in range(world):
        loader, sampler = ddp_digits.make_loader(x, y, 32 // world, world, rank, seed=3)
        sampler.set_epoch(1)
        per_rank.append([b[0].flatten().tolist() for b in loader])
    got = [sorted(sum(batches, [])) for batches in zip(*per_rank, strict=True)]
    assert len(got) == len(want) == STEPS
    assert got == want


def test_batch_size_must_split_evenly_over_the_processes():
    args = ddp_digits.parse_args(["--batch-size", "30"])
    with pytest.raises(ValueError, match="not divisible by the world size 4"):
        ddp_digits.train(args, 0, 4, torch.device("cpu"))


# ---------------------------------------------------------------- slow: real torchrun runs


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = tmp_path_factory.mktemp("ddp")
    ddp_digits.save_digits(work / "digits.pt")
    return work


def command(work, launcher, out, sync_bn=True):
    return (f"{launcher} {SCRIPT} --data {work / 'digits.pt'} --batch-size 32 --epochs {EPOCHS} "
            f"--out {work / out}" + (" --sync-bn" if sync_bn else ""))


@pytest.fixture(scope="module")
def runs(work):
    """프로세스 1개(기준), torchrun 2개와 4개(SyncBN), 노드 2개 × 2개(SyncBN): 모두 한 번에, 동시에."""
    port = free_port()
    node = (f"torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d --rdzv-endpoint 127.0.0.1:{port} "
            f"--rdzv-id test-ddp")
    commands = {
        "one": command(work, "python", "one.json", sync_bn=False),
        "two": command(work, "torchrun --standalone --nproc-per-node 2", "two.json"),
        "four": command(work, "torchrun --standalone --nproc-per-node 4", "four.json"),
        "node a": command(work, node, "nodes.json"),
        "node b": command(work, node, "nodes.json"),
    }
    before = torchelastic_dirs()
    started = time.monotonic()
    outputs = run_commands(*commands.values(), timeout=600)
    seconds = time.monotonic() - started
    results = {name: json.loads((work / f"{name}.json").read_text()) for name in ("one", "two", "four", "nodes")}
    return {"outputs": dict(zip(commands, outputs)), "results": results, "port": port, "seconds": seconds,
            "new_dirs": torchelastic_dirs() - before, "work": work}


def largest_difference(run, reference):
    steps = max(abs(p - q) for p, q in zip(run["step_loss"], reference["step_loss"], strict=True))
    state = max(abs(p - q) for name in reference["state"]
                for p, q in zip(run["state"][name], reference["state"][name], strict=True))
    return max(steps, state)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_each_run_had_its_processes_and_the_same_steps(runs):
    worlds = {name: r["world_size"] for name, r in runs["results"].items()}
    assert worlds == {"one": 1, "two": 2, "four": 4, "nodes": 4}
    assert {len(r["step_loss"]) for r in runs["results"].values()} == {STEPS * EPOCHS}
    assert runs["results"]["four"]["per_process_batch"] == 8
    assert runs["results"]["one"]["state"].keys() == runs["results"]["four"]["state"].keys()


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", ["two", "four", "nodes"])
def test_sync_bn_under_torchrun_trains_exactly_like_one_process(runs, name):
    # Steps' losses, final parameters and running statistics: float64 rounding apart (measured ~1e-15).
    assert largest_difference(runs["results"][name], runs["results"]["one"]) < 1e-10


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_nodes_of_two_equal_one_node_of_four(runs):
    assert largest_difference(runs["results"]["nodes"], runs["results"]["four"]) < 1e-12


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_rank_zero_alone_prints_one_line_per_epoch(runs):
    outs = runs["outputs"]
    assert outs["four"].splitlines()[0] == "프로세스 4개 (gloo), 전역 배치 32 = 프로세스마다 8개, bnref.SyncBatchNorm"
    assert len(re.findall(r"^에폭 \d+/\d+: ", outs["four"], flags=re.M)) == EPOCHS
    # Rank 0 is on whichever node the rendezvous put first: one of the two agents printed everything.
    assert sorted([outs["node a"], outs["node b"]], key=len)[0] == ""
    assert (outs["node a"] + outs["node b"]).replace("4개 (gloo)", "") == outs["four"].replace("4개 (gloo)", "")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_successful_runs_leave_no_process_port_or_temporary_folder(runs):
    assert leftovers(str(runs["work"])) == []
    assert not listening(runs["port"])
    assert runs["new_dirs"] == set()  # torchrun's torchelastic_* folders went into run_commands' own TMPDIR


# ---------------------------------------------------------------- slow: failures

CRASHING = textwrap.dedent("""\
    # ddp_digits, except that rank {rank} raises at its third step (the others wait in a collective).
    import os
    from bnref.course.examples import ddp_digits

    steps = 0
    original = ddp_digits.train_step

    def train_step(*args):
        global steps
        steps += 1
        if os.environ["RANK"] == "{rank}" and steps == 3:
            raise KeyError("planted failure on rank {rank} at step 3")
        return original(*args)

    ddp_digits.train_step = train_step
    ddp_digits.main()
    """)


@pytest.fixture(scope="module")
def crash(work):
    """torchrun 2개짜리에서 랭크 1이 세 번째 스텝에서 예외를 냅니다."""
    script = work / "crash_rank_1.py"
    script.write_text(CRASHING.format(rank=1))
    before = torchelastic_dirs()
    started = time.monotonic()
    with pytest.raises(RuntimeError) as err:
        run_commands(f"torchrun --standalone --nproc-per-node 2 {script} --data {work / 'digits.pt'}", timeout=300)
    return {"message": str(err.value), "seconds": time.monotonic() - started, "token": str(script),
            "new_dirs": torchelastic_dirs() - before}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_crashing_rank_fails_the_run_with_its_own_traceback(crash):
    message = crash["message"]
    assert message.startswith("command 1 of 1 failed with exit status 1: torchrun --standalone")
    assert "Root Cause (first observed failure):" in message
    assert re.search(r"rank\s*: 1 \(local_rank: 1\)", message), message
    assert "KeyError: 'planted failure on rank 1 at step 3'" in message
    assert "in train_step" in message  # the traceback, not just the exception


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_crash_stops_the_other_ranks_and_leaves_nothing_behind(crash):
    assert crash["seconds"] < 120  # rank 0, waiting in an all_reduce, is stopped by torchrun, not by our timeout
    assert leftovers(crash["token"]) == []
    assert crash["new_dirs"] == set()


@pytest.fixture(scope="module")
def node_crash(work):
    """노드 2개 × 2개에서 랭크 3이 세 번째 스텝에서 예외를 냅니다. 두 torchrun이 모두 끝나야 합니다."""
    script = work / "crash_rank_3.py"
    script.write_text(CRASHING.format(rank=3))
    port = free_port()
    node = (f"torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d --rdzv-endpoint 127.0.0.1:{port} "
            f"--rdzv-id test-crash {script} --data {work / 'digits.pt'}")
    started = time.monotonic()
    with pytest.raises(RuntimeError) as err:
        run_commands(node, node, timeout=300, grace=60)
    return {"message": str(err.value), "seconds": time.monotonic() - started, "token": str(script), "port": port}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_crash_on_one_node_ends_both_nodes_with_the_ranks_traceback(node_crash):
    message = node_crash["message"]
    # Both torchruns failed by themselves (within the grace period, not killed by run_commands).
    assert len(re.findall(r"^command [12] of 2 failed with exit status 1: ", message, flags=re.M)) == 2, message
    assert re.search(r"rank\s*: 3 \(local_rank: 1\)", message), message
    assert "KeyError: 'planted failure on rank 3 at step 3'" in message
    assert node_crash["seconds"] < 120
    assert leftovers(node_crash["token"]) == []
    assert not listening(node_crash["port"])


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_node_that_never_joins_times_out_with_a_clear_error(work):
    port, join_timeout = free_port(), 3
    alone = (f"torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d --rdzv-endpoint 127.0.0.1:{port} "
             f"--rdzv-id test-alone --rdzv-conf join_timeout={join_timeout} "
             + command(work, "", "never.json").strip())
    started = time.monotonic()
    with pytest.raises(RuntimeError) as err:
        run_commands(alone, timeout=120)
    seconds = time.monotonic() - started
    lines = str(err.value).splitlines()
    assert lines[1].startswith("rendezvous timed out: not every node joined within the join timeout")
    assert lines[-1].endswith("RendezvousTimeoutError")
    assert join_timeout <= seconds < 60
    assert leftovers(f"--rdzv-id test-alone") == [] and not listening(port)
    assert not (work / "never.json").exists()

