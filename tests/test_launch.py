"""bnref.course.launch.spawn: 결과는 랭크 순서로, 실패는 원래의 traceback으로, 시간은 유한하게, 남는 프로세스 없이.

run_commands(torchrun 명령을 그대로 실행)의 검사는 tests/test_ddp.py에 있습니다.
"""

import os
import time

import psutil
import pytest
import torch
import torch.distributed as dist

from bnref.course import launch
from bnref.course.launch import spawn


# spawn에 넘기는 함수는 모듈의 최상위에 있어야 자식 프로세스가 이름으로 찾습니다.
def rank_and_sum(rank, base):
    t = torch.tensor([float(rank)])
    dist.all_reduce(t)
    return {"rank": rank, "world": dist.get_world_size(), "sum": t.item() + base}


def fail_on_rank_one(rank):
    if rank == 1:
        raise KeyError("planted failure on rank 1")
    dist.barrier()  # 랭크 0은 여기서 랭크 1을 기다리다 통신 오류로 죽습니다


def sleep_forever(rank):
    time.sleep(3600)


def leftover_children():
    # Workers run "spawn_main". multiprocessing's resource tracker is not one of them: it is a single
    # helper per parent process, started with the first spawn, that ends with the parent.
    return [p for p in psutil.Process().children(recursive=True)
            if "spawn_main" in " ".join(p.cmdline())]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_results_come_back_in_rank_order():
    assert spawn(rank_and_sum, 3, (10.0,)) == [{"rank": r, "world": 3, "sum": 13.0} for r in range(3)]
    assert leftover_children() == []


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_failing_rank_raises_its_own_traceback_and_stops_the_others():
    with pytest.raises(RuntimeError, match=r"process 1 of 2 failed") as err:
        spawn(fail_on_rank_one, 2, timeout=120)
    assert "KeyError: 'planted failure on rank 1'" in str(err.value)
    assert leftover_children() == []


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_hanging_run_times_out_and_leaves_nothing_behind():
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        spawn(sleep_forever, 2, timeout=20)
    assert time.monotonic() - start < 60
    assert leftover_children() == []


class _ExitsBetweenReads:
    """A process that is still running at the first two looks at its exit code and finished after.

    Its sentinel is a real pipe whose writing end is closed, i.e. ready, as a finished process's is."""

    def __init__(self):
        self.sentinel, write_end = os.pipe()
        os.close(write_end)
        self._reads = 0

    @property
    def exitcode(self):
        self._reads += 1
        return None if self._reads <= 2 else 0


def test_a_rank_that_ends_while_being_looked_at_is_not_waited_for_until_the_timeout(tmp_path):
    # The last rank finishing between two reads of the exit codes once left nothing to wait on,
    # and wait([]) slept the whole timeout: lesson 10 (now 13) took 180 s instead of 17 s, now and then.
    proc = _ExitsBetweenReads()
    started = time.monotonic()
    try:
        launch._wait([proc], str(tmp_path), deadline=started + 30)
    finally:
        os.close(proc.sentinel)
    assert time.monotonic() - started < 5
