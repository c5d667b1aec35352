"""여러 프로세스를 띄우는 작은 실행기(launcher) 둘: :func:`spawn`과 :func:`run_commands`.

``spawn(fn, world_size, args)``는 ``torch.multiprocessing.spawn``처럼 프로세스를 ``world_size``개
띄우고 각 프로세스에서 ``fn(rank, *args)``를 부릅니다(강의 13). 다른 점은 셋입니다.

- 각 프로세스는 ``fn``을 부르기 전에 gloo 프로세스 그룹(process group)에 이미 들어가 있습니다.
  만나는 곳(rendezvous)은 임시 파일(``file://``)이라 포트를 고를 일이 없고, 둘이 동시에 돌아도
  부딪히지 않습니다.
- ``fn``의 반환값을 랭크(rank) 순서의 리스트로 돌려줍니다(텐서, 수, 리스트, 딕셔너리).
- 모든 프로세스를 ``timeout``초 안에 거둡니다. 한 프로세스가 실패하면 나머지를 끝내고 그
  traceback을 담은 ``RuntimeError``를 올리고, 시간이 넘으면 ``TimeoutError``를 올립니다.
  어느 경우에도 이 함수가 돌아온 뒤 살아 있는 자식 프로세스는 없습니다.

``fn``은 모듈의 최상위 함수여야 합니다. spawn 방식은 함수를 이름으로 pickle 하므로, Jupyter
셀에서 정의한 함수는 자식 프로세스가 찾지 못합니다.

``run_commands("torchrun ...", "torchrun ...")``는 사람이 터미널에 치는 ``torchrun`` 명령을 그대로
받아 (여럿이면 동시에) 실행하고 각 명령의 표준 출력을 돌려줍니다(강의 14). 한 랭크가 실패하면 그
랭크의 traceback을 담은 ``RuntimeError``를, 시간이 넘으면 ``TimeoutError``를 올리고, 역시 남는
프로세스 없이 돌아옵니다.
"""

import datetime
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from multiprocessing.connection import wait

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def spawn(fn, world_size, args=(), *, timeout=180.0, backend="gloo", threads=1):
    """``world_size``개 프로세스에서 ``fn(rank, *args)``를 돌리고 반환값들을 랭크 순서로 돌려줍니다.

    Args:
        fn: 모듈 최상위 함수. 프로세스 그룹이 초기화된 뒤에 불립니다.
        world_size: 띄울 프로세스 수.
        args: ``fn``에 ``rank`` 다음으로 넘길 인자들. pickle 할 수 있어야 합니다.
        timeout: 전체에 허용할 초. 집합 통신(collective) 하나의 제한 시간이기도 합니다.
        backend: ``torch.distributed`` 백엔드. Default: ``"gloo"`` (CPU).
        threads: 프로세스마다 ``torch.set_num_threads`` 값. 코어보다 많은 프로세스가 스레드까지
            여럿 쓰면 서로 자리를 빼앗아 느려지므로 기본은 1입니다.
    """
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bnref-spawn-") as tmp:
        # FileStore는 비어 있거나 없는 파일에서 시작해야 합니다.
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
    ``[(fn, args), ...]``이고, 각 랭크는 ``[fn(rank, *args), ...]``를 돌려줍니다.
    """
    return [fn(rank, *args) for fn, args in jobs]


def _path(tmp, kind, rank):
    return os.path.join(tmp, f"{kind}_{rank}.pt" if kind == "result" else f"{kind}_{rank}.txt")


def _entry(fn, rank, world_size, args, init_method, tmp, backend, threads, timeout):
    """자식 프로세스의 시작점: 그룹에 들어가고, ``fn``을 부르고, 결과나 오류를 파일로 남깁니다."""
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
    """모두 끝날 때까지 기다리되, 하나라도 실패하면 곧바로 멈춥니다 (나머지는 통신의 제한 시간까지 기다리기만 할 테니)."""
    while True:
        # 종료 코드는 한 번만 읽어 모든 판단에 씁니다. 따로 읽으면 그 사이에 마지막 프로세스가 끝나
        # 기다릴 목록이 비고, wait([])가 남은 시간(최대 timeout) 내내 잠들 수 있습니다.
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
    """가장 먼저 남겨진 오류를 고릅니다. 한 랭크가 죽으면 다른 랭크들은 통신 오류로 뒤따라 죽는데,
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


# ---------------------------------------------------------------- commands as typed (torchrun)


def run_commands(*commands, cwd=None, timeout=300.0, grace=30.0, threads=1):
    """터미널에 치는 명령을 그대로 받아 (여럿이면 동시에) 실행하고, 명령마다의 표준 출력을 돌려줍니다.

    맨 앞의 ``torchrun``은 ``python -m torch.distributed.run``으로, ``python``은 지금 이 파이썬
    (``sys.executable``)으로 바꿔 실행합니다. 같은 프로그램을 같은 환경에서 부르는 것입니다.
    명령을 동시에 띄우므로, 기계 두 대의 ``torchrun`` 두 개처럼 서로를 기다리는 명령도 함께 돌 수 있습니다.
    성공하든 실패하든, 돌아온 뒤에는 이 함수가 띄운 프로세스가 torchrun이 띄운 worker까지 하나도 남지 않습니다.

    Args:
        commands: 명령 문자열(셸처럼 나눕니다) 또는 인자 리스트.
        cwd: 작업 폴더. Default: 지금 폴더.
        timeout: 모두 끝나기까지 허용할 초.
        grace: 한 명령이 실패한 뒤 나머지가 스스로 끝나기를 기다리는 초. 그 뒤에는 끝냅니다.
        threads: 자식 프로세스의 ``OMP_NUM_THREADS``. 코어보다 많은 프로세스가 스레드까지 여럿 쓰면
            서로 자리를 빼앗아 느려지므로 기본은 1입니다.

    Returns:
        명령마다의 표준 출력(문자열)의 리스트.

    Raises:
        RuntimeError: 한 명령이라도 0이 아닌 상태로 끝나면. torchrun이 남긴 "Root Cause" 요약(실패한
            랭크의 번호와 traceback)을 담고, 요약이 없으면 표준 오류의 끝부분을 담습니다.
        TimeoutError: ``timeout``초 안에 끝나지 않으면.
    """
    argvs = [_argv(command) for command in commands]
    marker = uuid.uuid4().hex  # 이 실행이 띄운 모든 프로세스(손자까지)가 물려받는 표시
    with tempfile.TemporaryDirectory(prefix="bnref-run-") as tmp:
        # TMPDIR: torchrun은 실행마다 임시 폴더(torchelastic_*)를 만들고 지우지 않으므로, 함께 지워질 곳에.
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), _MARK: marker, "TMPDIR": tmp}
        if sys.platform.startswith("linux"):
            # 한 기계 안의 통신은 loopback 장치로 (바깥 네트워크가 없어도, 있어도 같게).
            env.setdefault("GLOO_SOCKET_IFNAME", "lo")
        procs, files = [], []
        try:
            for i, argv in enumerate(argvs):
                out = open(os.path.join(tmp, f"{i}.out"), "w+b")  # noqa: SIM115 (닫는 곳은 finally)
                err = open(os.path.join(tmp, f"{i}.err"), "w+b")  # noqa: SIM115
                files += [out, err]
                # 새 세션: 노트북 커널에 온 신호가 자식에게 번지지 않고, 정리는 이 함수가 합니다.
                procs.append(subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                              stderr=err, start_new_session=True))
            failed = _wait_commands(procs, time.monotonic() + timeout, grace)
            outputs = [_read(f) for f in files[0::2]]
            if failed:
                errors = [_read(files[2 * i + 1]) for i in failed]
                raise RuntimeError(_command_error(commands, procs, failed, errors))
            return outputs
        finally:
            _stop(procs, marker)
            for f in files:
                f.close()


def format_command(command):
    """명령을 터미널에 치는 모양으로 보여 줍니다. ``torchrun``의 옵션과 스크립트(``-m 모듈 ...``) 부분을
    셸의 줄 잇기(``\\``)로 두 줄에 나눕니다. 옵션이 어느 쪽에 속하는지가 눈에 보이도록 하려는 것입니다.

    >>> print(format_command("torchrun --standalone --nproc-per-node 4 -m pkg.mod --lr 0.1"))
    $ torchrun --standalone --nproc-per-node 4 \\
        -m pkg.mod --lr 0.1
    >>> print(format_command("python -m pkg.mod --lr 0.1"))
    $ python -m pkg.mod --lr 0.1
    """
    if command.startswith("torchrun "):
        command = command.replace(" -m ", " \\\n    -m ", 1)
    return "$ " + command


def free_port(host="127.0.0.1"):
    """지금 비어 있는 TCP 포트 번호 하나 (운영체제가 고른 것)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


_MARK = "BNREF_RUN_COMMANDS"


def _argv(command):
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if argv[0] == "torchrun":
        return [sys.executable, "-m", "torch.distributed.run", *argv[1:]]
    if argv[0] in ("python", "python3"):
        return [sys.executable, *argv[1:]]
    return argv


def _read(f):
    f.flush()
    f.seek(0)
    return f.read().decode("utf-8", errors="replace")


def _wait_commands(procs, deadline, grace):
    """모두 끝나기를 기다립니다. 실패한 명령의 번호를 실패한 순서로 돌려줍니다(없으면 빈 리스트).

    한 명령이 실패하면 나머지에게 ``grace``초를 더 줍니다. 다른 노드의 torchrun은 자기 worker가 통신
    오류로 죽는 것을 보고 스스로 끝나는 것이 보통이고, 그때 남기는 요약도 함께 보여 주기 위해서입니다.
    """
    failed = []
    while True:
        for i, p in enumerate(procs):
            if i not in failed and p.poll() not in (None, 0):
                failed.append(i)
                deadline = min(deadline, time.monotonic() + grace)
        if all(p.poll() is not None for p in procs):
            return failed
        if time.monotonic() > deadline:
            if failed:
                return failed  # 남은 것은 _stop이 끝냅니다
            raise TimeoutError(f"{len(procs)} command(s) did not finish in time")
        time.sleep(0.05)


def _command_error(commands, procs, failed, errors):
    parts = []
    for i, err in zip(failed, errors):
        command = commands[i] if isinstance(commands[i], str) else shlex.join(map(str, commands[i]))
        parts.append(f"command {i + 1} of {len(commands)} failed with exit status {procs[i].returncode}: "
                     f"{command}\n{_root_cause(err)}")
    return "\n\n".join(parts)


def _root_cause(stderr):
    """torchrun의 실패 요약에서 "Root Cause" 부분(실패한 랭크, traceback), 없으면 표준 오류의 끝 40줄."""
    lines = stderr.rstrip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Root Cause")), None)
    if start is None:
        tail = "\n".join(lines[-40:])
        if lines and "RendezvousTimeoutError" in lines[-1]:  # torchrun은 이 오류에 설명을 붙이지 않습니다
            return ("rendezvous timed out: not every node joined within the join timeout "
                    "(--rdzv-conf join_timeout=<seconds>, default 600)\n" + tail)
        return tail
    end = next((j for j in range(start + 1, len(lines)) if set(lines[j]) == {"="}), len(lines))
    return "\n".join(lines[start:end])


def _marked(marker):
    """환경 변수 표시로 찾은, 아직 있는 프로세스 번호들 (Linux의 /proc; 다른 곳에서는 빈 리스트).

    torchrun은 worker를 새 세션으로 띄우므로 프로세스 그룹으로는 모두 찾을 수 없고, torchrun이 먼저
    죽으면 worker의 부모도 바뀝니다. 환경 변수는 그래도 물려받습니다.
    """
    found, needle = [], f"{_MARK}={marker}".encode()
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue  # 이미 끝났거나 읽을 수 없는 프로세스
    return found


def _stop(procs, marker):
    """아직 도는 명령을 끝냅니다: torchrun에 SIGTERM(자기 worker를 정리하고 끝남), 10초 뒤에도 남은
    프로세스는 표시로 찾아 SIGKILL."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    stop_by = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(max(0.0, stop_by - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for pid in _marked(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for p in procs:
        p.wait()
