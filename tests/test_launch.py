"""bnref.launch.spawn: 결과는 rank 순서로, 실패는 원래의 traceback 으로, 시간은 유한하게, 남는 프로세스 없이."""

import time

import psutil
import pytest
import torch
import torch.distributed as dist

from bnref.launch import spawn


# spawn 에 넘기는 함수는 모듈의 최상위에 있어야 자식 프로세스가 이름으로 찾습니다.
def rank_and_sum(rank, base):
    t = torch.tensor([float(rank)])
    dist.all_reduce(t)
    return {"rank": rank, "world": dist.get_world_size(), "sum": t.item() + base}


def fail_on_rank_one(rank):
    if rank == 1:
        raise KeyError("planted failure on rank 1")
    dist.barrier()  # rank 0 은 여기서 rank 1 을 기다리다 통신 오류로 죽습니다


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
