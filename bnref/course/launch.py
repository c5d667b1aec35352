"""여러 프로세스를 띄워 한 함수를 돌리는 작은 실행기 (launcher).

``spawn(fn, world_size, args)``는 ``torch.multiprocessing.spawn``처럼 프로세스를
``world_size`` 개 띄우고 각 프로세스에서 ``fn(rank, *args)``를 부릅니다. 다른 점은 셋입니다.

- 각 프로세스는 ``fn``을 부르기 전에 gloo 프로세스 그룹(process group)에 이미 들어가 있습니다.
  만나는 곳(rendezvous)은 임시 파일(``file://``)이라 포트를 고를 일이 없고, 둘이 동시에 돌아도
  부딪히지 않습니다.
- ``fn``의 반환값을 rank 순서의 리스트로 돌려줍니다 (텐서, 수, 리스트, 딕셔너리).
- 모든 프로세스를 ``timeout`` 초 안에 거둡니다. 한 프로세스가 실패하면 나머지를 끝내고 그
  traceback을 담은 ``RuntimeError``를 올리고, 시간이 넘으면 ``TimeoutError``를 올립니다.
  어느 경우에도 이 함수가 돌아온 뒤 살아 있는 자식 프로세스는 없습니다.

``fn``은 모듈의 최상위 함수여야 합니다: spawn 방식은 함수를 이름으로 pickle 하므로, Jupyter
셀에서 정의한 함수는 자식 프로세스가 찾지 못합니다.
"""

import datetime
import os
import sys
import tempfile
import time
import traceback
from multiprocessing.connection import wait

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def spawn(fn, world_size, args=(), *, timeout=180.0, backend="gloo", threads=1):
    """``world_size`` 개 프로세스에서 ``fn(rank, *args)``를 돌리고 반환값들을 rank 순서로 돌려줍니다.

    Args:
        fn: 모듈 최상위 함수. 프로세스 그룹이 초기화된 뒤에 불립니다.
        world_size: 띄울 프로세스 수.
        args: ``fn``에 rank 다음으로 넘길 인자들 (pickle 가능해야 합니다).
        timeout: 전체에 허용할 초. 집합 통신(collective) 하나의 제한 시간이기도 합니다.
        backend: ``torch.distributed`` 백엔드. Default: ``"gloo"`` (CPU).
        threads: 프로세스마다 ``torch.set_num_threads`` 값. 코어보다 많은 프로세스가 스레드까지
            여럿 쓰면 서로 자리를 빼앗아 느려지므로 기본은 1입니다.
    """
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bnref-spawn-") as tmp:
        # FileStore 는 비어 있는 (또는 없는) 파일에서 시작해야 합니다.
        init_method = "file://" + os.path.join(tmp, "rendezvous")
        procs = [
            ctx.Process(
                target=_entry,
                args=(fn, rank, world_size, tuple(args), init_method, tmp, backend, threads, timeout),
                daemon=True,  # 부모가 갑자기 죽어도 자식이 남지 않게
            )
            for rank in range(world_size)
        ]
        try:
            for p in procs:
                p.start()
            _wait(procs, tmp, time.monotonic() + timeout)
            return [torch.load(_path(tmp, "result", r), weights_only=True) for r in range(world_size)]
        finally:
            _reap(procs)


def run_in_order(rank, jobs):
    """한 번 띄운 프로세스들에서 작업 여럿을 차례로 돌립니다: ``spawn(run_in_order, W, (jobs,))``.

    프로세스를 띄우는 비용(각자 torch를 import)이 작업보다 클 때 씁니다. ``jobs``는
    ``[(fn, args), ...]``이고, 각 rank는 ``[fn(rank, *args), ...]``를 돌려줍니다.
    """
    return [fn(rank, *args) for fn, args in jobs]


def _path(tmp, kind, rank):
    return os.path.join(tmp, f"{kind}_{rank}.pt" if kind == "result" else f"{kind}_{rank}.txt")


def _entry(fn, rank, world_size, args, init_method, tmp, backend, threads, timeout):
    """자식 프로세스의 시작점: 그룹에 들어가고, ``fn`` 을 부르고, 결과나 오류를 파일로 남깁니다."""
    code = 0
    try:
        torch.set_num_threads(threads)
        if sys.platform.startswith("linux"):
            # 통신을 loopback 장치에만 묶습니다 (바깥 네트워크가 없어도, 있어도 같게).
            os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
        dist.init_process_group(
            backend,
            init_method=init_method,
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=timeout),
        )
        torch.save(fn(rank, *args), _path(tmp, "result", rank))
    except BaseException:
        # 그룹을 닫기 전에 씁니다: 그래야 먼저 실패한 쪽의 파일이 먼저 생깁니다.
        with open(_path(tmp, "error", rank), "w") as f:
            f.write(traceback.format_exc())
        code = 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    sys.exit(code)


def _wait(procs, tmp, deadline):
    """모두 끝날 때까지 기다리되, 하나라도 실패하면 곧바로 멈춥니다 (나머지는 통신에서 영영 기다릴 테니)."""
    while True:
        # 종료 코드는 한 번만 읽어 모든 판단에 씁니다. 따로 읽으면 그 사이에 마지막 프로세스가 끝나
        # 기다릴 목록이 비고, wait([]) 가 남은 시간(최대 timeout) 내내 잠들 수 있습니다.
        codes = [p.exitcode for p in procs]
        if any(code not in (None, 0) for code in codes):
            raise RuntimeError(_first_error(procs, tmp))
        if all(code == 0 for code in codes):
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{len(procs)} processes did not finish in time")
        # 살아 있던 프로세스 중 하나라도 끝나면 (이미 끝났으면 곧바로) 깨어납니다.
        wait([p.sentinel for p, code in zip(procs, codes) if code is None], timeout=remaining)


def _first_error(procs, tmp):
    """가장 먼저 남겨진 오류를 고릅니다. 한 rank 가 죽으면 다른 rank 들은 통신 오류로 뒤따라 죽는데,
    원인은 첫 번째 것입니다."""
    written = [r for r in range(len(procs)) if os.path.exists(_path(tmp, "error", r))]
    if not written:
        codes = [p.exitcode for p in procs]
        return f"a process died without a traceback (exit codes {codes})"
    r = min(written, key=lambda r: os.path.getmtime(_path(tmp, "error", r)))
    with open(_path(tmp, "error", r)) as f:
        return f"process {r} of {len(procs)} failed:\n{f.read()}"


def _reap(procs):
    """아직 살아 있는 자식을 끝내고 거둡니다: 먼저 SIGTERM, 그래도 남으면 SIGKILL."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        if p.pid is None:
            continue  # 시작하지 못한 프로세스
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join()
