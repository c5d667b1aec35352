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
# # torchrun과 DDP로 학습하기
#
# [여러 프로세스에서 BN](13_sync_batchnorm.md)에서는 `bnref.SyncBatchNorm` 층 하나를 이 강좌의 작은
# 실행기로 띄운 프로세스 4개에서 돌려, 미니배치 하나로 계산한 것과 같은 값이 나오는 것을 확인했습니다.
# 실제로 여러 GPU에서 모델을 학습할 때는 PyTorch가 주는 두 도구를 씁니다.
#
# - `torchrun`: 프로세스를 띄우고, 서로 만나게 하고, 하나가 죽으면 나머지를 정리하는 실행기(launcher)
# - `DistributedDataParallel`: 모델을 감싸서 프로세스마다 계산한 기울기를 맞추는 모듈. 분산 데이터
#   병렬(distributed data parallel)을 줄여 DDP라고 부릅니다.
#
# 이 강의는 이 둘로 손글씨 숫자를 학습하는 스크립트 `bnref.course.examples.ddp_digits`를 이 기계에서
# 실제로 돌립니다. 스크립트는 bnref에 들어 있으니 복사해서 고쳐 쓰면 됩니다. GPU가 있으면 같은 스크립트가
# GPU와 NCCL을 씁니다.
#
# 이 강의에서 다루는 것은 세 가지입니다.
#
# 1. DDP가 기울기에 하는 일, 그리고 배치 정규화에는 하지 않는 일
# 2. 스크립트의 분산 학습 부분과 `torchrun`의 명령
# 3. 같은 전역 배치(global batch)로 학습한 세 실행의 비교: (a) 프로세스 4개와 보통의 BN, (b) 프로세스 4개와
#    동기화 배치 정규화(synchronized batch normalization, 줄여서 SyncBN), (c) 프로세스 하나
#
# 기계 여러 대에서 돌리는 법과, 실행이 실패할 때 일어나는 일은 [여러 기계에서 학습하기](15_multi_node.md)에서
# 봅니다. 용어는 [용어집](../glossary.md)에 정리해 두었습니다.

# %%
import inspect
import json
import statistics
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from torch import nn

from bnref.course.examples import ddp_digits
from bnref.course.launch import format_command, run_commands
from bnref.course.printing import markdown_table
from bnref.course.viz import use_korean_font


def show_source(*functions):
    """함수의 소스를 그대로 보여 줍니다. 페이지의 코드는 스크립트의 복사본이 아니라 스크립트 자체입니다."""
    source = "\n\n".join(inspect.getsource(f).rstrip() for f in functions)
    display(Markdown(f"```python\n{source}\n```"))


# %% [markdown]
# ## DDP는 기울기의 평균을 낸다
#
# 데이터 병렬(data parallel) 학습에서는 프로세스 $W$개가 모델의 똑같은 사본을 하나씩 가집니다. 전역
# 배치 $B$개를 $W$개로 나눠, 랭크(rank) $r$의 프로세스는 자기 몫 $b = B/W$개로 손실
# $L_r = \frac{1}{b}\sum_{i \in r} \ell_i$와 그 기울기 $\nabla L_r$을 구합니다.
#
# DDP는 역전파(backward) 중에 이 기울기들을 **평균** 냅니다. 각 프로세스의 기울기를 $W$로 나누고 모든
# 프로세스에 대해 더합니다(`all_reduce`). 이때 기울기를 파라미터마다 따로 보내지 않고 여러 개를 묶음(bucket)으로
# 모아 보내며, 역전파가 끝나기를 기다리지 않고 다 계산된 묶음부터 보냅니다. 모든 프로세스가 같은 평균을
# 받아 같은 갱신을 하므로 파라미터는 계속 같습니다. 조각 크기가 같으면 이 평균은 전역 배치의 평균 손실의
# 기울기와 같습니다.
#
# $$\frac{1}{W}\sum_r \nabla L_r = \nabla \Big(\frac{1}{W b}\sum_{r}\sum_{i \in r} \ell_i\Big)$$
#
# 단, 샘플마다의 손실 $\ell_i$가 다른 샘플과 상관없을 때의 이야기입니다. 학습 모드의 배치 정규화는 그렇지
# 않습니다. 샘플 $i$의 출력이 함께 묶인 샘플들의 평균과 분산에 달려 있기 때문입니다. DDP는 기울기만 맞출
# 뿐, BN이 어느 샘플들로 통계를 내는지는 건드리지 않습니다. 그래서 보통의 BN은 각 프로세스의 작은 배치
# $b$개로 정규화하고, 위의 등식이 깨집니다.
#
# DDP가 하는 계산을 한 프로세스에서 흉내 내 확인해 봅니다. 샘플 32개를 4조각으로 나눠 조각마다 기울기를
# 구하고, 그 평균과 합을 32개 전체로 구한 기울기와 비교합니다. BN이 없는 모델과 BN이 있는 모델(학습 모드)을
# 견줍니다. 데이터는 스크립트와 같은 것을 파일로 한 번 만들어 둡니다. 뒤에서 모든 프로세스가 이 파일을 읽습니다.

# %%
workdir = tempfile.TemporaryDirectory(prefix="ddp-digits-")
work = Path(workdir.name)  # 실행 결과(JSON)를 모을 임시 폴더
ddp_digits.save_digits(work / "digits.pt")
data = torch.load(work / "digits.pt", weights_only=True)
x, y = data["x_train"][:32], data["y_train"][:32]


def flat_grad(model, xs, ys):
    model.zero_grad()
    nn.functional.cross_entropy(model(xs), ys).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


torch.manual_seed(0)
no_bn = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).double()
with_bn = ddp_digits.make_model().double()  # Linear → BatchNorm1d → ReLU가 두 번

rows = []
for label, model in [("BN 없음", no_bn), ("BN 있음", with_bn)]:
    whole = flat_grad(model, x, y)
    parts = [flat_grad(model, xc, yc) for xc, yc in zip(x.chunk(4), y.chunk(4))]
    rows.append([label, (sum(parts) / 4 - whole).abs().max(), (sum(parts) - whole).abs().max()])
display(Markdown(markdown_table(
    ["모델", "조각 기울기의 평균 − 전체 기울기", "조각 기울기의 합 − 전체 기울기"], rows, digits=6)))

# %% [markdown]
# 표의 숫자는 전체 배치로 구한 기울기와의 가장 큰 차이입니다. BN이 없으면 조각 기울기의 평균이 전체
# 기울기와 같습니다. 평균이 아니라 합을 쓰면 4배가 되어 틀립니다. BN이 있으면 평균도 맞지 않습니다.
# 조각마다 다른 통계로 정규화했으니 조각마다 다른 함수의 기울기를 구한 셈입니다.
#
# 동기화 배치 정규화(`SyncBatchNorm`)가 더하는 것이 바로 이 부분입니다. 순전파(forward)에서는 모든
# 프로세스의 조각을 이어 붙인 전역 배치의 평균과 분산으로 정규화하고, 역전파에서는 입력 기울기에 필요한
# 두 합 $\sum dy$, $\sum dy\,\hat{x}$을 모든 프로세스에 대해 더합니다. 그러면 각 프로세스가 구한 기울기를
# DDP가 평균 낸 것이 다시 전역 배치의 기울기와 같아집니다. 자세한 계산은 [강의 13](13_sync_batchnorm.md)에
# 있습니다.

# %% [markdown]
# ## 스크립트의 분산 학습 부분
#
# `bnref.course.examples.ddp_digits`는 은닉층 두 개(각 뉴런 32개, Linear → BatchNorm1d → ReLU)짜리
# 다층 퍼셉트론을 SGD로 학습합니다. 한 프로세스짜리 학습 스크립트와 다른 곳은 네 군데뿐입니다. 아래 코드는
# 스크립트에서 그대로 가져온 것입니다.
#
# **1. 프로세스 그룹(process group)에 들어가기.** `torchrun`은 프로세스마다 환경 변수로 자기 번호(`RANK`),
# 이 기계 안에서의 번호(`LOCAL_RANK`), 전체 프로세스 수(world size, `WORLD_SIZE`), 만날 곳(`MASTER_ADDR`,
# `MASTER_PORT`)을 넘겨줍니다. `init_process_group`은 이것을 읽어 모든 프로세스를 한 그룹으로 묶습니다.
# 통신 백엔드(backend)는 GPU가 있으면 NCCL, 없으면 gloo입니다. 여러 GPU로 학습할 때는 보통 NCCL을
# 쓰고, gloo는 CPU에서 같은 `torch.distributed` API를 제공합니다.

# %%
show_source(ddp_digits.init_distributed)

# %% [markdown]
# **2. 모델 감싸기.** `--sync-bn`을 주면 모델의 BN 층을 모두 `bnref.SyncBatchNorm`으로 바꿉니다. GPU에서는
# `--sync-bn torch`로 `torch.nn.SyncBatchNorm`을 고를 수도 있습니다(torch의 것은 CPU 입력을 받지
# 않습니다). 그다음 DDP로 감쌉니다. DDP는 만들어질 때 랭크 0의 파라미터를 모두에게 복사하고, 역전파 중에
# 기울기 평균을 냅니다. 또 기본값(`broadcast_buffers=True`)으로 순전파마다 랭크 0의 버퍼, 곧 BN의 이동
# 통계(running statistics)를 다른 프로세스에 복사합니다.

# %%
show_source(ddp_digits.wrap_model)

# %% [markdown]
# **3. 데이터 나누기.** `DistributedSampler`는 모든 프로세스에서 같은 시드로 같은 순서를 만들고, 랭크마다
# $W$칸씩 건너뛰며 자기 몫을 가져갑니다. 그래서 스텝 $k$에서 네 프로세스가 받는 샘플을 모으면, 섞은
# 순서의 $k$번째 덩어리 $B$개가 됩니다. 프로세스 하나가 배치 $B$개로 학습할 때의 $k$번째 미니배치와 같은
# 샘플들입니다. 에폭마다 `sampler.set_epoch(epoch)`을 불러야 순서가 바뀝니다.

# %%
show_source(ddp_digits.make_loader)

# %% [markdown]
# **4. 학습 스텝.** 한 프로세스짜리와 똑같습니다. `loss.backward()`가 끝나면 각 프로세스의 `.grad`에 이미
# 평균이 들어 있습니다.

# %%
show_source(ddp_digits.train_step)

# %% [markdown]
# ## 세 실행: 같은 전역 배치, 다른 BN
#
# 세 실행 모두 전역 배치는 32개입니다(`--batch-size 32`). 프로세스가 4개면 각자 8개씩 받습니다.
#
# - (a) 프로세스 4개, 보통의 BN: 각 프로세스가 자기 샘플 8개의 통계로 정규화합니다.
# - (b) 프로세스 4개, `--sync-bn`: 네 프로세스의 32개 전체의 통계로 정규화합니다.
# - (c) 프로세스 하나: 32개로 정규화합니다. 비교의 기준입니다.
#
# `torchrun --standalone --nproc-per-node 4`는 이 기계에 프로세스 4개를 띄웁니다. `--standalone`은
# 프로세스들이 만날 곳, 곧 랑데부(rendezvous)를 이 기계의 빈 포트에 알아서 정하라는 뜻입니다. (c)는
# `torchrun` 없이 `python -m`으로 실행합니다. 세 명령은 모두 터미널에 그대로 칠 수 있는 명령입니다.
# `bnref.course.launch.run_commands`는 이 명령들을 동시에 띄우고(이 기계의 시간을 아끼려고 동시에 띄울
# 뿐, 따로 띄워도 결과는 같습니다), 끝나면 각 명령의 표준 출력을 돌려줍니다. 프로세스마다 torch를 새로
# 불러오므로 학습보다 시작에 시간이 더 듭니다.

# %%
SCRIPT = "-m bnref.course.examples.ddp_digits"
ARGS = "--data digits.pt --batch-size 32 --epochs 1 --lr 0.1 --seed 0"
commands = {
    "a": f"torchrun --standalone --nproc-per-node 4 {SCRIPT} {ARGS} --out a.json",
    "b": f"torchrun --standalone --nproc-per-node 4 {SCRIPT} {ARGS} --sync-bn --out b.json",
    "c": f"python {SCRIPT} {ARGS} --out c.json",
}
outputs = run_commands(*commands.values(), cwd=work)
for name, command, output in zip(commands, commands.values(), outputs):
    print(f"({name}) {format_command(command)}\n{output}")  # torchrun의 옵션과 스크립트를 두 줄로
runs = {name: json.loads((work / f"{name}.json").read_text()) for name in commands}

# %% [markdown]
# 각 실행의 출력은 랭크 0이 찍은 것입니다. 에폭마다의 학습 손실은 그 에폭의 스텝 손실(네 프로세스 손실의
# 평균, 곧 전역 배치의 손실)의 평균이고, 테스트 손실과 정확도는 평가 모드에서 이동 통계로 잰 값입니다.
#
# 이제 스텝마다의 손실과, 학습이 끝난 뒤의 파라미터와 이동 통계를 (c)와 비교합니다. 표의 숫자는 (c)와의
# 가장 큰 차이입니다.


# %%
def largest_gap(run, key):
    """(c)와의 가장 큰 차이: 스텝 손실, 또는 이름이 ``key``를 담은 상태 텐서들."""
    if key == "step_loss":
        return max(abs(p - q) for p, q in zip(run["step_loss"], runs["c"]["step_loss"], strict=True))
    names = [n for n in runs["c"]["state"] if key in n]
    return max(abs(p - q) for n in names for p, q in zip(run["state"][n], runs["c"]["state"][n], strict=True))


labels = {"a": "(a) 프로세스 4개, 보통의 BN", "b": "(b) 프로세스 4개, SyncBN"}
gaps = {name: [largest_gap(runs[name], key) for key in ("step_loss", "weight", "bias", "running")] for name in labels}
display(Markdown(markdown_table(
    ["실행", "스텝 손실", "가중치와 γ", "편향과 β", "이동 통계"],
    [[labels[name], *gaps[name]] for name in labels], digits=12)))
print(f"스텝 수: (a) {len(runs['a']['step_loss'])}, (b) {len(runs['b']['step_loss'])}, "
      f"(c) {len(runs['c']['step_loss'])}")
largest_b = max(gaps["b"])
verdict = "같습니다" if largest_b < 1e-10 else "다릅니다"
print(f"(b)와 (c)의 가장 큰 차이(소수점 열두째 자리까지): {largest_b:.12f}. 두 실행은 float64의 반올림 "
      f"범위에서 {verdict}.")

# %% [markdown]
# (b)는 (c)와 스텝마다 같습니다. 학습을 모두 마친 뒤에도 손실과 파라미터와 이동 통계가 소수점 열두째
# 자리까지 같습니다. 남는 차이는 float64의 반올림뿐입니다. 네 프로세스가 더하는 순서와 한 프로세스가
# 더하는 순서가 다르기 때문입니다. 프로세스 4개로 나눠 학습했는데도, 프로세스 하나로 전역 배치를 학습한
# 것과 같은 학습입니다.
#
# (a)는 첫 스텝부터 다릅니다. 그림으로 보면 이렇습니다.

# %%
use_korean_font()
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
steps = range(1, len(runs["c"]["step_loss"]) + 1)
left.plot(steps, runs["a"]["step_loss"], color="tab:orange", label="(a) 프로세스 4개, 보통의 BN")
left.plot(steps, runs["c"]["step_loss"], color="tab:blue", label="(c) 프로세스 하나")
left.plot(steps, runs["b"]["step_loss"], "o", color="tab:blue", markersize=3, markerfacecolor="none",
          label="(b) 프로세스 4개, SyncBN")
left.set(title="스텝마다의 손실", xlabel="스텝", ylabel="전역 배치의 손실")
left.legend()
for name in labels:
    diff = [abs(p - q) for p, q in zip(runs[name]["step_loss"], runs["c"]["step_loss"])]
    # 로그 눈금에는 0을 그릴 수 없으므로 10⁻¹⁸ 아래는 10⁻¹⁸에 그립니다.
    right.plot(steps, [max(d, 1e-18) for d in diff], color={"a": "tab:orange", "b": "tab:blue"}[name],
               label=labels[name])
right.set(title="(c)와의 손실 차이", xlabel="스텝", ylabel="|차이| (로그 눈금)", yscale="log")
right.legend()
fig.suptitle("같은 전역 배치 32개로 학습한 세 실행")
fig.tight_layout()
plt.show()

# %% [markdown]
# 왼쪽에서 (b)의 동그라미는 (c)의 선 위에 그대로 놓입니다. 오른쪽은 스텝마다 (c)와의 손실 차이이고,
# 차이가 0인 스텝은 바닥(10⁻¹⁸)에 그렸습니다. 숫자로 보면 이렇습니다.

# %%
for name in labels:
    diff = [abs(p - q) for p, q in zip(runs[name]["step_loss"], runs["c"]["step_loss"])]
    print(f"{labels[name]}: (c)와의 손실 차이의 중앙값 {statistics.median(diff):.12f}")
print(f"첫 스텝의 손실: (a) {runs['a']['step_loss'][0]:.4f}, (c) {runs['c']['step_loss'][0]:.4f}")
n_test = len(data["y_test"])
right = {name: round(runs[name]["epochs"][-1]["test_acc"] * n_test) for name in runs}  # 맞힌 장 수
print(f"학습 뒤 테스트 데이터 {n_test}장 중 맞힌 수: (a) {right['a']}, (b) {right['b']}, (c) {right['c']}")
if right["a"] < right["c"]:
    print(f"이 실험에서 (a)는 (c)보다 {right['c'] - right['a']}장 더 틀렸습니다.")
elif right["a"] > right["c"]:
    print(f"이 실험에서 (a)는 (c)보다 {right['a'] - right['c']}장 덜 틀렸습니다.")
else:
    print("이 실험에서 (a)와 (c)는 같은 수를 맞혔습니다.")

# %% [markdown]
# 첫 스텝에서는 세 실행의 파라미터가 모두 같습니다. 그런데도 (a)의 손실이 다른 것은, 같은 파라미터로도
# 샘플 8개의 통계로 정규화한 출력이 32개의 통계로 정규화한 출력과 다르기 때문입니다. 기울기가 달라지니
# 파라미터도 첫 갱신부터 갈라집니다. (a)의 평가에는 랭크 0의 이동 통계가 쓰입니다. DDP가 순전파마다 랭크
# 0의 버퍼를 복사하므로, 이 이동 통계는 랭크 0이 본 샘플 8개짜리 배치들로만 쌓은 것입니다.
#
# (a)가 꼭 나쁜 학습이라는 뜻은 아닙니다. 정확도가 어느 쪽으로 얼마나 다른지는 모델과 데이터와, 장치 하나가
# 한 스텝에 받는 장치당 배치(per-device batch)의 크기에 따라 다릅니다. 배치 통계의 잡음이 규제처럼
# 작용하기도 합니다([규제 효과와 배치 크기](09_regularization.md)). 위의 정확도 차이도 시드 하나로 한 번
# 잰 것이라, 어느 쪽이 낫다는 근거가 되지 못합니다. 확실한 것은 (a)가 **다른** 학습이라는 점입니다. 결과가
# 전역 배치가 아니라 장치당 배치의 크기에 달려 있으므로, 장치 수를 바꾸면 같은 설정으로도 결과가 바뀝니다.
# 장치마다 샘플이 몇 개뿐이라면 [강의 13](13_sync_batchnorm.md)의 첫 표에서 본 것처럼 그 통계는 많이
# 흔들립니다. SyncBN을 쓰면 결과가 장치 수와 상관없이 전역 배치만으로 정해집니다. 대가는 BN 층마다
# 스텝마다 두 번의 집합 통신입니다.

# %% [markdown]
# ## GPU에서는
#
# 같은 스크립트를 GPU가 4개인 기계에서 그대로 실행하면 됩니다.
#
# ```bash
# torchrun --standalone --nproc-per-node 4 -m bnref.course.examples.ddp_digits --sync-bn torch
# ```
#
# `init_distributed`가 CUDA를 보고 NCCL 백엔드를 고르고, 프로세스마다 `LOCAL_RANK`번 GPU를 씁니다.
# `--sync-bn torch`는 `torch.nn.SyncBatchNorm`을, `--sync-bn`만 주면 `bnref.SyncBatchNorm`을 씁니다.
# 둘 다 전역 배치에 BN을 쓴 것과 같은 값을 내도록 만들어졌습니다. `tests/test_sync.py`가 이 기계의 실제
# 프로세스로 `bnref`의 것을 전역 배치에 쓴 torch의 `BatchNorm`과 비교합니다. torch의 것은 GPU가 없는 이
# 기계에서는 돌릴 수 없습니다.
#
# 실제 학습에서는 속도 때문에 float64 대신 float32나 그보다 낮은 정밀도를 씁니다. (b)와 (c)의 차이는
# 더하는 순서에서 오는 반올림 차이라서 float32에서는 더 크고, 긴 학습에서는 그 작은 차이가 자라 스텝마다의
# 값이 조금씩 갈라질 수 있습니다. 그래도 (a)처럼 첫 스텝부터 다른 학습이 되는 것과는 다릅니다.

# %%
workdir.cleanup()  # 데이터 파일과 결과 JSON을 지웁니다

# %% [markdown]
# ## 정리
#
# - `torchrun --nproc-per-node W`는 프로세스를 $W$개 띄우고 각자에게 `RANK`, `WORLD_SIZE` 같은 환경 변수를
#   줍니다. 스크립트는 `init_process_group`으로 그룹에 들어가고, `DistributedSampler`로 자기 몫의 데이터를
#   받고, 모델을 DDP로 감쌉니다.
# - DDP는 역전파 중에 기울기의 평균(각자 $W$로 나눈 뒤 `all_reduce`로 더한 것)을 모든 프로세스에 줍니다.
#   BN의 통계는 건드리지 않으므로, 보통의 BN은 장치당 배치로 정규화합니다.
# - SyncBN을 쓰면 프로세스 4개에 나눈 학습이 프로세스 하나로 전역 배치를 학습한 것과 스텝마다 같습니다
#   (float64에서 소수점 열두째 자리까지). 보통의 BN으로는 첫 스텝부터 다른 학습이 됩니다.
# - 같은 스크립트가 CPU에서는 gloo, GPU에서는 NCCL로 돕니다. 기계 여러 대에서 돌리는 법은
#   [여러 기계에서 학습하기](15_multi_node.md)에 있습니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** (c)를 `--batch-size 8`로 돌리면 (a)와 같아질까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 아닙니다. BN이 8개씩 정규화한다는 점은 같지만, 프로세스 하나가 배치 8개로 학습하면 스텝마다 한 번
# 갱신하므로 에폭당 스텝이 4배입니다. (a)는 8개씩 네 조각의 기울기를 평균 내 32개당 한 번 갱신합니다.
# 한 프로세스에서 (a)를 흉내 내려면 32개를 8개씩 따로 정규화하되 갱신은 한 번 해야 합니다. 이것이 고스트
# 배치 정규화(ghost batch normalization)의 생각입니다([규제 효과와 배치 크기](09_regularization.md)).
# 똑같은 값을 얻으려면 조각도 랭크들의 몫과 같아야 합니다. `DistributedSampler`는 네 칸씩 건너뛰며
# 나누므로, (c)의 미니배치 `x`에서 랭크 $r$의 몫은 앞에서부터 8개가 아니라 `x[r::4]`입니다. 이동 통계까지
# 같게 하려면 랭크 0의 몫 `x[0::4]`로만 이동 통계를 쌓아야 합니다.
#
# </details>
#
# **2.** DDP가 기울기를 평균 내지 않고 더하기만 한다면, (c)와 같은 학습을 얻으려면 무엇을 바꿔야 할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 합은 평균의 $W$배입니다. 각 프로세스의 손실을 자기 샘플 수 $b$ 대신 전역 배치 크기 $B$로 나누면
# 기울기의 합이 곧 전역 배치의 기울기가 됩니다. 가중치 감쇠가 없는 SGD라면 학습률을 $1/W$로 줄여도 같은
# 갱신이 되지만, Adam처럼 기울기의 크기를 스스로 맞추는 옵티마이저에서는 기울기가 $W$배여도 갱신이 거의
# 그대로이므로 학습률을 줄이면 오히려 달라집니다. 실제 DDP는 평균을 내므로 이런 고민 없이 한 프로세스의
# 설정을 그대로 씁니다.
#
# </details>
#
# **3.** (a)에서 DDP를 `broadcast_buffers=False`로 만들면 무엇이 바뀔까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 학습 중의 출력과 기울기는 그대로입니다. 학습 모드의 BN은 이동 통계가 아니라 배치 통계로 정규화하기
# 때문입니다. 바뀌는 것은 이동 통계입니다. 순전파마다 랭크 0의 것으로 덮어쓰지 않으므로 프로세스마다
# 자기 샘플로 쌓은 이동 통계가 따로 남고, 평가 결과가 어느 랭크에서 재느냐에 따라 달라집니다. 다만 랭크
# 0의 이동 통계는 원래도 자기 샘플로만 쌓은 것이므로 그대로이고, 이 스크립트가 랭크 0에서 잰 평가 결과도
# 같습니다.
#
# </details>
