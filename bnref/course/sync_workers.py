"""SyncBatchNorm을 여러 프로세스에서 돌려 보는 작업 함수들. tests/test_sync.py와 강의 13이 함께 씁니다.

:func:`bnref.course.launch.spawn`에 넘기는 함수는 모듈의 최상위 함수여야 합니다. spawn은 함수를 이름으로
pickle 하므로 Jupyter 셀에서 정의한 함수는 자식 프로세스가 찾지 못합니다. 그래서 여기 둡니다.
각 작업 함수의 첫 인자는 랭크(rank)이고, 호출될 때는 프로세스 그룹이 이미 초기화되어 있습니다.
"""

import contextlib
import os
import statistics
import time

import torch
import torch.distributed as dist

from bnref.modules import BatchNorm1d, BatchNorm2d, BatchNorm3d
from bnref.sync import SyncBatchNorm

PLAIN = {2: BatchNorm1d, 3: BatchNorm1d, 4: BatchNorm2d, 5: BatchNorm3d}


def shard(batch, sizes, rank):
    """이어 붙인 배치에서 ``rank``의 몫: 앞에서부터 ``sizes[0]``개, ``sizes[1]``개, ...씩."""
    start = sum(sizes[:rank])
    return batch[start : start + sizes[rank]]


def train_steps(bn, batches, grads):
    """배치마다 학습 스텝 하나: 순전파, 그리고 손실 Σ(y·g)의 역전파(g는 정해 둔 출력 기울기).

    마지막 스텝의 출력과 기울기, 그리고 이동 통계를 딕셔너리로 돌려줍니다. 손실이 샘플들의 합이므로
    γ, β의 기울기는 랭크들의 몫을 더하면 이어 붙인 배치의 기울기가 됩니다(DDP는 평균을 내는데, 실제 학습의
    손실은 랭크마다 자기 몫의 평균이기 때문입니다).
    """
    for batch, grad in zip(batches, grads):
        bn.zero_grad(set_to_none=True)
        x = batch.clone().requires_grad_(True)
        y = bn(x)
        (y * grad).sum().backward()
    # clone: 나중의 역전파가 .grad에 더해도 돌려준 값은 바뀌지 않게
    result = {"output": y.detach().clone(), "grad_input": x.grad.clone()}
    if bn.affine:
        result.update(grad_weight=bn.weight.grad.clone(), grad_bias=bn.bias.grad.clone())
    if bn.track_running_stats:
        result.update(running_mean=bn.running_mean.clone(), running_var=bn.running_var.clone(),
                      num_batches_tracked=bn.num_batches_tracked.clone())
    return result


@contextlib.contextmanager
def count_collectives():
    """이 프로세스에서 ``dist.all_gather``와 ``dist.all_reduce`` 호출을 기록합니다.

    기록은 ``(이름, 이 랭크가 내놓은 바이트 수)``의 리스트입니다. :mod:`bnref.sync`는 두 함수를
    ``dist.``를 거쳐 부르므로 여기서 바꿔 끼운 것이 불립니다.
    """
    calls, originals = [], {name: getattr(dist, name) for name in ("all_gather", "all_reduce")}

    def recording(name):
        def call(*args, **kwargs):
            sent = args[1] if name == "all_gather" else args[0]
            calls.append((name, sent.numel() * sent.element_size()))
            return originals[name](*args, **kwargs)

        return call

    for name in originals:
        setattr(dist, name, recording(name))
    try:
        yield calls
    finally:
        for name, fn in originals.items():
            setattr(dist, name, fn)


def sync_train(rank, batches, grads, sizes, state, kwargs=None):
    """``SyncBatchNorm``으로 학습 스텝들을 돌리고, 이어서 평가 모드 순전파를 한 번 합니다.

    Args:
        batches, grads: 스텝마다 이어 붙인 배치와 출력 기울기. 모든 랭크가 같은 것을 받습니다.
        sizes: 랭크마다의 배치 크기(dim 0). 0도 됩니다.
        state: 시작할 ``state_dict``(γ, β, 버퍼).
        kwargs: ``SyncBatchNorm``에 줄 인자(eps, momentum, ...).
    """
    num_features = batches[0].shape[1]
    bn = SyncBatchNorm(num_features, dtype=batches[0].dtype, **(kwargs or {}))
    bn.load_state_dict(state)
    result = train_steps(bn, [shard(b, sizes, rank) for b in batches], [shard(g, sizes, rank) for g in grads])
    bn.eval()
    with count_collectives() as calls:
        x = shard(batches[-1], sizes, rank).clone().requires_grad_(True)
        y = bn(x)
        if x.numel():
            y.sum().backward()
    result["eval_output"] = y.detach()
    result["eval_collectives"] = len(calls)
    return result


def sync_train_all(rank, jobs):
    """:func:`sync_train`을 여러 번 부릅니다. ``jobs``는 그 인자 튜플들의 리스트이고, 프로세스 시작은 한 번뿐입니다.

    한 경우가 모든 랭크에서 같은 오류를 내면(예: 그룹 전체에 값이 하나뿐) 그 오류를
    ``{"error": "ValueError: ..."}``로 돌려주고 다음 경우로 갑니다. 모든 랭크가 같은 지점에서
    멈췄으므로 그 뒤의 통신은 다시 짝이 맞습니다.
    """
    results = []
    for job in jobs:
        try:
            results.append(sync_train(rank, *job))
        except ValueError as err:
            results.append({"error": f"{type(err).__name__}: {err}"})
    return results


def _written_bytes():
    """이 프로세스가 지금까지 write 계열 시스템 호출로 내보낸 바이트 수(Linux의 /proc). 잴 수 없으면 None."""
    try:
        with open(f"/proc/{os.getpid()}/io") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("wchar:"))
    except (OSError, StopIteration):
        return None


def step_cost(rank, shape, steps, seed=0):
    """같은 층을 보통의 ``BatchNorm``과 ``SyncBatchNorm``으로 학습 스텝 ``steps``번씩 돌려 잽니다.

    Returns: 딕셔너리 — 스텝당 시간(초, 중앙값) 둘, 한 스텝의 집합 통신 기록, 그리고 한 스텝에서
    이 프로세스가 실제로 내보낸 바이트 수(``/proc``으로 잼. 잴 수 없으면 None).
    """
    gen = torch.Generator().manual_seed(seed + rank)
    x = torch.randn(shape, generator=gen)
    g = torch.randn(shape, generator=gen)
    plain = PLAIN[len(shape)](shape[1])
    sync = SyncBatchNorm.convert_sync_batchnorm(PLAIN[len(shape)](shape[1]))
    times = {}
    for name, bn in (("plain", plain), ("sync", sync), ("plain", plain), ("sync", sync)):
        per_step = []
        for _ in range(steps):
            dist.barrier()  # 모든 랭크가 같이 출발: 한 랭크의 늦음이 다음 측정에 섞이지 않게
            start = time.perf_counter()
            train_steps(bn, [x], [g])
            per_step.append(time.perf_counter() - start)
        times.setdefault(name, []).extend(per_step[1:])  # 첫 스텝은 준비 운동
    dist.barrier()
    before = _written_bytes()
    with count_collectives() as calls:
        train_steps(sync, [x], [g])
    after = _written_bytes()
    return {
        "plain_s": statistics.median(times["plain"]),
        "sync_s": statistics.median(times["sync"]),
        "collectives": calls,
        "written_bytes": None if before is None else after - before,
    }
