# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 여러 기계에서 학습하기
#
# [torchrun과 DDP로 학습하기](14_ddp_torchrun.md)에서는 기계 한 대에 프로세스 4개를 띄웠습니다. GPU가
# 모자라면 기계를 여러 대 씁니다. 기계 한 대를 노드(node)라고 부릅니다. 노드마다 `torchrun`을 하나씩
# 실행하면, 이들이 약속한 곳에서 만나 모든 노드의 프로세스를 한 프로세스 그룹(process group)으로 묶습니다.
# 학습 스크립트는 그대로입니다.
#
# 이 강의에서 다루는 것은 세 가지입니다.
#
# 1. 기계 두 대에서 칠 명령과, 그 명령으로 프로세스들이 만나는 방법
# 2. 같은 명령을 이 기계에서 `torchrun` 두 개로 실제로 돌려, 기계 한 대의 결과와 같은지 확인하기
# 3. 노드 하나가 오지 않을 때와 프로세스 하나가 죽을 때 일어나는 일
#
# 용어는 [용어집](../glossary.md)에 정리해 두었습니다.

# %%
import json
import shlex
import tempfile
import time
from pathlib import Path

from IPython.display import Markdown, display

from bnref.course.examples import ddp_digits
from bnref.course.launch import format_command, free_port, run_commands
from bnref.course.printing import markdown_table

# %% [markdown]
# ## 노드, 랭크, 랑데부
#
# 노드가 2개이고 노드마다 프로세스가 2개이면 전체 프로세스는 4개입니다. `torchrun`은 각 프로세스에 두
# 가지 번호를 줍니다. `RANK`는 0부터 3까지의 전체 번호, 곧 랭크(rank)입니다. `LOCAL_RANK`는 그 노드
# 안에서의 번호 0, 1이고, 그 프로세스가 쓸 GPU 번호가 됩니다. 전체 프로세스 수(`WORLD_SIZE`)는 4입니다.
#
# 서로 다른 기계의 `torchrun`들이 만나는 과정을 랑데부(rendezvous)라고 합니다. `--rdzv-backend c10d`를
# 쓰면 `--rdzv-endpoint`에 적은 주소의 기계에서 도는 `torchrun`이 작은 키-값 저장소(TCP store)를 열고,
# 모든 `torchrun`이 그곳에 자기를 등록합니다. `--nnodes`개가 모이면 노드의 순서와 프로세스의 번호가 정해지고,
# 그때 각 노드가 자기 프로세스들을 띄웁니다. `--rdzv-id`는 이 학습 작업의 이름입니다. 같은 저장소를 쓰는
# 다른 작업과 섞이지 않게 합니다.
#
# 노드의 순서는 사람이 아니라 랑데부가 정합니다. torch 2.13의 c10d 랑데부는 모인 노드들을 호스트 이름과
# `torchrun` 자신의 프로세스 ID(PID) 순으로 정렬해 번호를 매깁니다. `--rdzv-endpoint`의 기계가 노드 0이
# 된다는 보장도 없습니다. 그래서 두 기계에서 **똑같은 명령**을 칩니다. `--node-rank`로 순서를 손으로 정하는
# 방식은 기본 백엔드(`static`)의 것이고, c10d에서는 쓰지 않습니다(0이 아닌 값을 주면 `torchrun`이
# 무시한다는 경고를 냅니다).
#
# 기계 A의 주소가 `10.0.0.1`이라면 두 기계에서 다음 명령을 칩니다. 두 기계에 같은 코드와 같은 데이터 파일이
# 있어야 하고, 기계 B가 기계 A의 포트 29400에 접속할 수 있어야 합니다.

# %%
SCRIPT = "-m bnref.course.examples.ddp_digits"
ARGS = "--data digits.pt --batch-size 32 --epochs 1 --lr 0.1 --seed 0 --sync-bn"


def node_command(endpoint, torchrun_options=""):
    """노드 하나에서 칠 명령. 모든 노드에서 같습니다. torchrun의 옵션은 스크립트 이름 앞에 둡니다."""
    return (f"torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d --rdzv-endpoint {endpoint} "
            f"--rdzv-id digits {torchrun_options}{SCRIPT} {ARGS}")


two_machines = node_command("10.0.0.1:29400")
print(format_command(two_machines))  # torchrun의 옵션과 스크립트를 두 줄로

# %% [markdown]
# ## 한 기계에서 두 노드 흉내 내기
#
# 이 기계에는 기계가 한 대뿐이므로, 같은 명령을 두 번 동시에 실행하고 주소만 이 기계 자신(`127.0.0.1`)의
# 빈 포트로 바꿉니다. 두 `torchrun`은 서로 다른 기계에서 돌 때와 똑같이 랑데부에서 만나고, 프로세스 4개가
# 한 그룹을 이룹니다. 다른 것은 통신이 네트워크 대신 이 기계 안(loopback)을 지난다는 것뿐입니다.
#
# 비교를 위해 프로세스 하나짜리 실행도 함께 띄웁니다. 앞 강의의 (c)와 같은 명령입니다.
# `bnref.course.launch.free_port`가 빈 포트를 고르고, `run_commands`가 세 명령을 동시에 띄웁니다.

# %%
workdir = tempfile.TemporaryDirectory(prefix="ddp-nodes-")
work = Path(workdir.name)
ddp_digits.save_digits(work / "digits.pt")

here = node_command("127.0.0.1:$PORT")  # $PORT: 실행할 때 고르는 빈 포트
print(format_command(here))
print("기계 두 대의 명령과 다른 곳:", [(a, b) for a, b in zip(shlex.split(two_machines), shlex.split(here)) if a != b])

port = free_port()
loopback = here.replace("$PORT", str(port)) + " --out nodes.json"
one_process = f"python {SCRIPT} {ARGS.replace(' --sync-bn', '')} --out one.json"

node_a, node_b, single = run_commands(loopback, loopback, one_process, cwd=work)
print("두 노드 (랭크 0이 찍은 것):")
print(node_a + node_b)  # 랭크 0은 랑데부가 노드 0으로 정한 쪽에 있습니다. 어느 쪽인지는 실행마다 다를 수 있습니다.
print("프로세스 하나:")
print(single)

# %% [markdown]
# 두 명령은 랑데부 주소만 다릅니다. 두 노드의 출력은 앞 강의의 (b), 곧 한 기계의 프로세스 4개와 동기화
# 배치 정규화(synchronized batch normalization, 줄여서 SyncBN)로 학습한 결과와 같은 숫자입니다.
# 스텝마다의 손실과 파라미터를 프로세스 하나짜리와 비교합니다.

# %%
nodes = json.loads((work / "nodes.json").read_text())
one = json.loads((work / "one.json").read_text())


def largest_gap(key):
    if key == "step_loss":
        pairs = zip(nodes["step_loss"], one["step_loss"], strict=True)
    else:
        pairs = [(p, q) for n in one["state"] if key in n for p, q in zip(nodes["state"][n], one["state"][n])]
    return max(abs(p - q) for p, q in pairs)


gaps = [largest_gap(key) for key in ("step_loss", "weight", "bias", "running")]
display(Markdown(markdown_table(["실행", "스텝 손실", "가중치와 γ", "편향과 β", "이동 통계"],
                                [["노드 2개 × 프로세스 2개, SyncBN", *gaps]], digits=12)))
print(f"프로세스 수: {nodes['world_size']}, 스텝 수: {len(nodes['step_loss'])} (프로세스 하나: {len(one['step_loss'])})")
verdict = "같습니다" if max(gaps) < 1e-10 else "다릅니다"
print(f"가장 큰 차이 {max(gaps):.12f}: 노드 두 개로 나눈 학습과 프로세스 하나의 학습은 float64의 반올림 범위에서 "
      f"{verdict}.")

# %% [markdown]
# 기계가 몇 대이든, 기계마다 프로세스가 몇 개이든, 프로세스 그룹이 만들어진 뒤의 계산은 같습니다. DDP는
# 네 프로세스의 기울기를 평균 내고, SyncBN은 네 조각의 통계를 합칩니다. 그래서 결과도 같습니다.

# %% [markdown]
# ## 노드 하나가 오지 않으면
#
# 기계 B에서 명령을 치는 것을 잊었다고 합시다. 기계 A의 `torchrun`은 랑데부에서 나머지 노드를 기다립니다.
# 얼마나 기다릴지는 `--rdzv-conf join_timeout=초`로 정하고, 기본값은 600초입니다. 시간이 지나면
# `RendezvousTimeoutError`를 내고 끝납니다. 프로세스는 하나도 띄우지 않은 채입니다.
#
# 여기서는 `join_timeout=3`으로 두 노드 중 하나만 실행합니다. `--rdzv-conf`는 `torchrun`의 옵션이므로
# `-m 모듈` 앞에 둡니다. 뒤에 두면 학습 스크립트의 인자가 되어 버리고, `torchrun`은 기본값인 600초를
# 기다립니다. `run_commands`는 실패한 명령의 표준 오류 끝부분을 담아 `RuntimeError`를 올리고, 랑데부 시간
# 초과일 때는 둘째 줄에 그 뜻을 적습니다.

# %%
JOIN_TIMEOUT = 3
alone = node_command(f"127.0.0.1:{free_port()}", f"--rdzv-conf join_timeout={JOIN_TIMEOUT} ")
started = time.monotonic()
try:
    run_commands(alone, cwd=work)
except RuntimeError as err:
    message = str(err)
waited = time.monotonic() - started
print("오류의 둘째 줄:", message.splitlines()[1])
print("오류의 마지막 줄:", message.splitlines()[-1])
print(f"join_timeout({JOIN_TIMEOUT}초) 이상, 60초 안에 끝났는가: {JOIN_TIMEOUT <= waited < 60}")

# %% [markdown]
# 오류는 랑데부가 시간 안에 끝나지 않았다는 것입니다. 실제 클러스터에서 이 오류를 보면, 다른 노드에서
# 명령을 실행했는지, 그 노드가 `--rdzv-endpoint`의 주소와 포트에 닿을 수 있는지(방화벽), 두 명령의
# `--nnodes`와 `--rdzv-id`가 같은지를 확인합니다.

# %% [markdown]
# ## 프로세스 하나가 죽으면
#
# 학습 중에 한 프로세스가 예외로 죽으면(메모리 부족, 잘못된 데이터, 코드의 버그), 나머지 프로세스는 그
# 프로세스를 기다리는 집합 통신에서 멈춥니다. 이때 기본 설정(`--max-restarts 0`)의 `torchrun`이 하는 일은
# 셋입니다.
#
# 1. 자기 노드의 프로세스를 지켜보다가 하나가 0이 아닌 상태로 끝나면, 같은 노드의 나머지 프로세스에
#    SIGTERM을 보내 끝냅니다. 다른 노드의 프로세스는 통신 상대가 사라져 오류로 끝나고(백엔드에 따라서는
#    통신의 제한 시간이 지난 뒤에), 그 노드의 `torchrun`도 따라서 끝납니다.
# 2. 실패 요약을 표준 오류에 남깁니다. "Root Cause (first observed failure)" 아래에 가장 먼저 실패한
#    프로세스의 랭크와 종료 코드, 그리고 traceback이 있습니다. traceback은 스크립트의 `main`에 붙인
#    `@record`(`torch.distributed.elastic.multiprocessing.errors`)가 오류 파일에 써 둔 것입니다.
#    `@record`가 없으면 요약에 traceback이 빠집니다.
# 3. 0이 아닌 종료 코드로 끝납니다.
#
# `--max-restarts`를 1 이상으로 주면 끝내는 대신 랑데부를 다시 거쳐 모든 노드의 프로세스를 처음부터 다시
# 띄웁니다. 스크립트가 체크포인트에서 이어 가도록 만들지 않았다면 학습도 처음부터 다시 합니다.
#
# `run_commands`는 이 요약의 "Root Cause" 부분을 담아 `RuntimeError`를 올리고, 띄운 프로세스가 하나도
# 남지 않게 정리한 뒤에 돌아옵니다. 그래서 이 강의나 앞 강의의 실행 중에 프로세스 하나가 죽으면, 그 셀이
# 그 랭크의 traceback과 함께 실패합니다. 테스트(`tests/test_ddp.py`)가 실제 프로세스로 이것을 확인합니다.
# 기계 한 대에서 랭크 1이 세 번째 스텝에서 예외를 내면 나머지가 정리되고 오류에 랭크 1과 그 예외가
# 있는지, 노드 두 개에서 랭크 3이 죽으면 두 `torchrun`이 모두 스스로 끝나고 남는 프로세스와 포트가
# 없는지를 봅니다.

# %%
workdir.cleanup()

# %% [markdown]
# ## 정리
#
# - 노드마다 `torchrun`을 하나씩, 모든 노드에서 같은 명령으로 실행합니다. `--nnodes`, `--nproc-per-node`,
#   `--rdzv-backend c10d`, `--rdzv-endpoint 주소:포트`, `--rdzv-id`를 줍니다. 기계 한 대짜리 명령과
#   다른 곳은 랑데부에 관한 인자뿐이고, 학습 스크립트는 그대로입니다.
# - 한 기계에서 두 `torchrun`을 `127.0.0.1`로 만나게 하면 같은 과정을 그대로 재현할 수 있습니다. 결과는
#   기계 한 대의 프로세스 4개, 그리고 프로세스 하나로 전역 배치를 학습한 결과와 같았습니다.
# - 노드가 오지 않으면 `join_timeout` 뒤에 `RendezvousTimeoutError`가 납니다. 프로세스 하나가 죽으면
#   `torchrun`이 나머지를 끝내고 그 랭크의 traceback을 "Root Cause"로 보여 줍니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 기계 A에는 GPU가 4개, 기계 B에는 2개 있습니다. `--nproc-per-node`를 기계마다 다르게 주어도 될까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 됩니다. 랑데부는 노드마다 프로세스 수를 모아 전체 번호를 매기므로 `WORLD_SIZE`는 6이 됩니다. 다만 이
# 스크립트의 `--batch-size`는 프로세스 수로 나누어떨어져야 하므로 32 대신 36이나 48을 줍니다. GPU 성능이
# 다르면 느린 쪽이 매 스텝의 속도를 정합니다.
#
# </details>
#
# **2.** 두 기계 중 B의 `--data` 파일이 없으면 어떻게 될까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# B의 프로세스들이 파일을 읽다가 `FileNotFoundError`로 죽습니다. B의 `torchrun`은 그 traceback을 Root Cause로
# 보여 주고 끝나고, A의 프로세스들은 첫 집합 통신에서 상대를 잃어 오류로 끝납니다. A의 요약만 보면 통신
# 오류로 보이므로, 여러 노드의 오류를 볼 때는 가장 먼저 실패한 노드의 요약을 찾습니다.
#
# </details>
