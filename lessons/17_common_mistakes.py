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
# # 자주 하는 실수
#
# 배치 정규화(batch normalization) 층은 다른 층과 달리 **상태**가 있고, **모드**에 따라 다르게
# 동작하고, 미니배치(mini-batch)의 다른 샘플에 따라 결과가 달라집니다. 그래서 코드는 에러 없이 돌아가는데
# 결과만 조용히 틀리는 실수가 자주 생깁니다. 이번 강의에서는 자주 하는 실수 여섯 가지를 하나씩 직접
# 일으켜 보고, 무엇이 잘못되는지 숫자로 확인한 뒤 고치는 방법을 봅니다. 실수 1만은 에러(`ValueError`)를
# 내서 바로 드러나고, 나머지 다섯 가지는 에러 없이 결과만 틀립니다.
#
# 층은 `bnref.BatchNorm1d`를 씁니다. PyTorch와 이름도 동작도 같게 만든 참조 구현이라서, 아래 코드의
# 마지막 줄을 `BatchNorm1d = torch.nn.BatchNorm1d`로 바꿔도 이 페이지의 모든 출력이 그대로
# 나옵니다(이 강좌의 테스트가 실제로 바꿔서 확인합니다).

# %%
import copy

import torch
import torch.nn.functional as F
from IPython.display import Markdown, display
from torch.utils.data import DataLoader, TensorDataset

import bnref
from bnref.course.printing import fmt, markdown_table

BatchNorm1d = bnref.BatchNorm1d

# %% [markdown]
# ## 실수 1: 학습 모드에서 샘플 하나짜리 미니배치
#
# 학습 모드(training mode)에서 샘플이 하나뿐인 미니배치를 넣으면 에러가 납니다.

# %%
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 3, bias=False), BatchNorm1d(3))
x_one = torch.randn(1, 4)  # 샘플 하나

try:
    model(x_one)
except ValueError as e:
    print(f"{type(e).__name__}: {e}")

# %% [markdown]
# 값이 하나뿐이면 배치 평균은 그 값 자신이고 배치 분산은 0입니다. 정규화하면 입력이 무엇이든 $x - \mu = 0$이
# 되어 출력은 언제나 β이고, 입력 쪽과 γ로 가는 기울기(gradient)도 0입니다. 게다가 이동 분산에 넣을 불편
# 분산은 $n - 1 = 0$으로 나누어야 해서 구할 수 없습니다. 그래서 PyTorch는 아예 거절합니다. 평가
# 모드(evaluation mode)에서는 이동 통계(running statistics)로 정규화하므로 샘플 하나도 괜찮습니다.

# %%
model.eval()
with torch.no_grad():
    print("평가 모드 출력의 모양:", tuple(model(x_one).shape))

# %% [markdown]
# 실제로 이 에러를 만나는 곳은 대개 에폭(epoch, 데이터 전체를 한 번 도는 것)의 **마지막 미니배치**입니다. 샘플이 33개인데 배치 크기(batch
# size)가 8이면, 마지막 미니배치에는 샘플이 하나만 남습니다.

# %%
torch.manual_seed(1)
data = TensorDataset(torch.randn(33, 4), torch.randint(0, 3, (33,)))
loader = DataLoader(data, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))
print("미니배치 크기:", [len(xb) for xb, _ in loader])


def train_one_epoch(model, loader):
    """한 에폭을 학습하고 처리한 미니배치 수를 돌려줍니다. 실패하면 몇 번째에서 실패했는지 알려 줍니다."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for step, (xb, yb) in enumerate(loader, start=1):
        try:
            loss = F.cross_entropy(model(xb), yb)
        except ValueError as e:
            print(f"{step}번째 미니배치(샘플 {len(xb)}개)에서 {type(e).__name__}: {e}")
            return step - 1
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


torch.manual_seed(2)
classifier = torch.nn.Sequential(torch.nn.Linear(4, 8, bias=False), BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
print("끝까지 처리한 미니배치:", train_one_epoch(classifier, loader))

# %% [markdown]
# 고치는 방법은 `DataLoader`에 `drop_last=True`를 주는 것입니다. 크기가 모자란 마지막 미니배치를 버립니다.
# `shuffle=True`이면 에폭마다 버려지는 샘플이 달라지므로, 같은 샘플이 계속 빠질 일은 거의 없습니다.

# %%
loader = DataLoader(data, batch_size=8, shuffle=True, drop_last=True,
                    generator=torch.Generator().manual_seed(0))
print("미니배치 크기:", [len(xb) for xb, _ in loader])
print("끝까지 처리한 미니배치:", train_one_epoch(classifier, loader))

# %% [markdown]
# 샘플 하나짜리 미니배치는 에러가 나니 그나마 알아차리기 쉽습니다. 샘플이 2~3개뿐인 미니배치는 에러
# 없이 지나가지만 그 통계는 매우 부정확합니다. 마지막 미니배치가 너무 작다면 `drop_last=True`를
# 쓰거나 배치 크기를 조정하는 편이 낫습니다.

# %% [markdown]
# ## 실수 2: 평가할 때 model.eval()을 잊음
#
# 앞에서 학습한 `classifier`로 샘플 하나의 출력을 봅니다. 이 샘플을 서로 다른 두 미니배치에 넣어 보고,
# 샘플 하나만 넣어도 봅니다. 평가 코드에서 `model.eval()`을 빠뜨리면 층은 학습 모드 그대로입니다.

# %%
torch.manual_seed(3)
sample = torch.randn(1, 4)
batch_a = torch.cat([sample, torch.randn(7, 4)])  # 다른 샘플 7개와 함께
batch_b = torch.cat([sample, torch.randn(3, 4) + 2.0])  # 분포가 조금 다른 샘플 3개와 함께


def logits_of_sample(model, batch):
    with torch.no_grad():
        return model(batch)[0]


rows = []
for mode in ("학습 모드 (eval을 잊음)", "평가 모드"):
    classifier.train() if mode.startswith("학습") else classifier.eval()
    a, b = logits_of_sample(classifier, batch_a), logits_of_sample(classifier, batch_b)
    rows.append([f"{mode}, 미니배치 A", fmt(a), str(a.argmax().item())])
    rows.append([f"{mode}, 미니배치 B", fmt(b), str(b.argmax().item())])
alone = logits_of_sample(classifier, sample)
rows.append(["평가 모드, 샘플 하나만", fmt(alone), str(alone.argmax().item())])
display(Markdown(markdown_table(["상황", "같은 샘플의 출력", "예측한 클래스"], rows)))

# %% [markdown]
# 학습 모드에서는 같은 샘플인데 함께 들어간 샘플들에 따라 출력이 달라지고, 위 표에서는 예측한 클래스까지
# 0에서 1로 바뀌었습니다. 평가 데이터를 어떻게 묶느냐에 따라 정확도가 달라진다는 뜻입니다. 샘플 하나씩
# 예측하는 서비스라면 실수 1의 에러가 납니다.
# `model.eval()`을 부르면 세 경우 모두 같은 출력이 나옵니다. 학습을 다시 시작할 때는 `model.train()`을
# 잊지 마세요.

# %% [markdown]
# ## 실수 3: no_grad나 requires_grad=False면 이동 통계도 그대로일 거라는 착각
#
# `torch.no_grad()`는 기울기 기록만 끕니다. `requires_grad=False`는 파라미터가 학습되지 않게 할 뿐입니다.
# 어느 쪽도 **모드**를 바꾸지 않습니다. 이동 평균(running mean)과 이동 분산(running variance)은 기울기로
# 학습되는 파라미터가 아니라, 학습 모드에서 층을 부를 때마다 갱신되는 버퍼(buffer)입니다.

# %%
torch.manual_seed(4)
batch = torch.randn(16, 3) * 2 + 5
bn = BatchNorm1d(3)


def snapshot(label):
    """지금의 num_batches_tracked와 첫 번째 특성의 이동 통계를 표의 한 줄로 (값을 복사해 둡니다)."""
    return [label, str(bn.num_batches_tracked.item()), bn.running_mean[0].item(), bn.running_var[0].item()]


rows = [snapshot("처음")]

with torch.no_grad():
    bn(batch)
rows.append(snapshot("학습 모드 + torch.no_grad()"))

for p in bn.parameters():
    p.requires_grad_(False)
bn(batch)
rows.append(snapshot("학습 모드 + requires_grad=False"))

bn.eval()
bn(batch)
rows.append(snapshot("평가 모드"))
display(Markdown(markdown_table(["상황", "num_batches_tracked", "running_mean[0]", "running_var[0]"], rows)))

# %% [markdown]
# 이동 통계를 바꾸지 않는 것은 평가 모드뿐입니다. 실수 2에서 `eval()`을 잊고 평가 데이터를 넣은 것도
# 마찬가지로 이동 통계에 평가 데이터를 섞어 넣은 셈입니다. 이 착각이 가장 크게 문제 되는 곳은
# 실수 6의 미세 조정입니다.

# %% [markdown]
# ## 실수 4: x.var()와 x.std()의 기본값은 불편 분산
#
# 배치 정규화를 손으로 구현하거나 결과를 검산할 때 `x.var()`나 `x.std()`를 그대로 쓰기 쉽습니다.
# 그런데 PyTorch의 이 함수들은 기본적으로 $n-1$로 나누는 불편 분산(unbiased variance)을 구합니다. 배치
# 정규화가 정규화에 쓰는 것은 $n$으로 나누는 편향 분산(biased variance)입니다. 값 네 개로 비교해 봅니다.

# %%
x4 = torch.tensor([[1.0], [2.0], [3.0], [4.0]])  # (N, C) = (4, 1)
print("x.var()               :", fmt(x4.var()), "  ← 불편 분산, n−1로 나눔")
print("x.var(unbiased=False) :", fmt(x4.var(unbiased=False)), "  ← 편향 분산, n으로 나눔")

by_hand_wrong = (x4 - x4.mean()) / x4.std()  # 흔한 실수
by_hand_right = (x4 - x4.mean()) / torch.sqrt(x4.var(unbiased=False) + 1e-5)
bn = BatchNorm1d(1)
with torch.no_grad():
    y4 = bn(x4)
rows = [["x.std()로 나눔", fmt(by_hand_wrong.flatten())],
        ["편향 분산 + ε으로 나눔", fmt(by_hand_right.flatten())],
        ["BatchNorm1d 출력", fmt(y4.flatten())]]
display(Markdown(markdown_table(["방법", "정규화한 값"], rows)))
print("한 스텝 뒤 running_var:", fmt(bn.running_var), "= 0.9·1 + 0.1·" + fmt(x4.var()))

# %% [markdown]
# `x.std()`로 나눈 값은 배치 정규화 출력의 $\sqrt{(n-1)/n}$배로, 더 작습니다. 샘플이 4개면 13%나
# 차이 납니다. 헷갈리는 점은 같은 층이 **이동 분산에는 불편 분산을** 쓴다는 것입니다(마지막 줄).
# 정리하면 이렇습니다. 정규화에는 `x.var(unbiased=False)`, 이동 분산에는 `x.var()`.

# %% [markdown]
# ## 실수 5: 배치 정규화 바로 앞 층의 편향
#
# `Linear`나 `Conv2d` 뒤에 배치 정규화를 붙일 때 앞 층의 편향(bias)은 쓸모가 없습니다. 편향은 특성마다
# 모든 샘플에 같은 값을 더하는데, 배치 정규화가 곧바로 평균을 빼서 그것을 지워 버리기 때문입니다.
# 편향이 있는 `Linear`와 없는 `Linear`에 같은 가중치를 주고 비교합니다.

# %%
torch.manual_seed(5)
with_bias = torch.nn.Linear(4, 3, bias=True)
without_bias = torch.nn.Linear(4, 3, bias=False)
with torch.no_grad():
    without_bias.weight.copy_(with_bias.weight)
    with_bias.bias.copy_(torch.tensor([5.0, -3.0, 10.0]))  # 일부러 큰 편향
bn_a, bn_b = BatchNorm1d(3), BatchNorm1d(3)

x16 = torch.randn(16, 4)
out_a = bn_a(with_bias(x16))
out_b = bn_b(without_bias(x16))
print("두 출력의 가장 큰 차이:", fmt((out_a - out_b).abs().max()))

upstream = torch.randn(16, 3)  # 위에서 흘러 들어온 기울기
(out_a * upstream).sum().backward()
print("편향의 기울기:        ", fmt(with_bias.bias.grad))
print("가중치 기울기의 크기: ", fmt(with_bias.weight.grad.norm()))

# %% [markdown]
# 출력은 같고, 편향의 기울기는 0입니다. [역전파 유도](06_backward.py)에서 본 것처럼 배치 정규화의 입력
# 기울기는 특성마다 더하면 0이고, 편향의 기울기가 바로 그 합이기 때문입니다. 가중치 감쇠(weight decay)를
# 쓰지 않으면 편향은 학습 내내 처음 값에서 움직이지 않고, 쓰면 0 쪽으로 줄어들기만 합니다. 어느 쪽이든
# 출력에는 아무 영향이 없습니다. 그래서 배치 정규화 앞의 층은 보통 `bias=False`로 만듭니다. 특성의 평균을
# 옮기는 일은 배치 정규화의 β가 합니다.

# %% [markdown]
# ## 실수 6: 백본을 얼렸는데 이동 통계는 계속 바뀜
#
# 미리 학습한 모델의 앞부분인 백본(backbone)은 그대로 두고 마지막 층인 헤드(head)만 새 데이터로
# 학습하는 미세 조정(fine-tuning)은 흔한 작업입니다. 백본을 "얼린다"며 파라미터에
# `requires_grad=False`를 주는 것으로 끝내기 쉬운데, 실수 3에서 봤듯이 그것만으로는 백본 안의 배치
# 정규화 층의 이동 통계가 얼지 않습니다.
#
# 분포 A(평균 0, 표준편차 1)에서 학습을 마친 백본이 있다고 하고, 분포 B(평균 2, 표준편차 3)의 새
# 데이터로 헤드만 학습해 봅니다.

# %%
torch.manual_seed(6)
pretrained = torch.nn.Sequential(torch.nn.Linear(4, 8, bias=False), BatchNorm1d(8), torch.nn.ReLU())
with torch.no_grad():  # 사전 학습을 흉내 냄: 분포 A로 이동 통계를 채웁니다.
    for _ in range(100):
        pretrained(torch.randn(32, 4))
pretrained.eval()
probe = torch.randn(64, 4)  # 분포 A의 확인용 입력
with torch.no_grad():
    features_before = pretrained(probe)


def fine_tune(backbone, freeze_bn_stats, steps=30):
    """헤드만 학습합니다. freeze_bn_stats면 백본의 배치 정규화 층을 평가 모드로 둡니다."""
    for p in backbone.parameters():
        p.requires_grad_(False)  # 백본을 "얼림"
    head = torch.nn.Linear(8, 3)
    model = torch.nn.Sequential(backbone, head)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    for _ in range(steps):
        model.train()
        if freeze_bn_stats:
            for m in model.modules():
                if isinstance(m, BatchNorm1d):
                    m.eval()  # model.train()이 다시 학습 모드로 돌려놓으므로 매번
        xb = torch.randn(32, 4) * 3 + 2  # 분포 B
        yb = torch.randint(0, 3, (32,))
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return backbone


rows = []
for freeze in (False, True):
    torch.manual_seed(7)
    backbone = fine_tune(copy.deepcopy(pretrained), freeze_bn_stats=freeze)
    bn_layer, bn_before = backbone[1], pretrained[1]
    backbone.eval()
    with torch.no_grad():
        feature_change = (backbone(probe) - features_before).abs().max()
    rows.append(["requires_grad=False + BN 층 eval()" if freeze else "requires_grad=False만",
                 str(bn_layer.num_batches_tracked.item() - bn_before.num_batches_tracked.item()),
                 (bn_layer.running_mean - bn_before.running_mean).abs().max(),
                 (bn_layer.running_var - bn_before.running_var).abs().max(),
                 feature_change])
display(Markdown(markdown_table(
    ["얼린 방법", "늘어난 num_batches_tracked", "running_mean 변화", "running_var 변화",
     "분포 A 입력의 백본 출력 변화"], rows)))

# %% [markdown]
# `requires_grad=False`만 준 경우, 가중치는 그대로인데도 이동 통계가 분포 B 쪽으로 옮겨 갔고, 그
# 결과 같은 입력에 대한 백본의 출력이 바뀌었습니다. 백본이 사전 학습에서 배운 것과 다른 함수가 된
# 것입니다. 배치 정규화 층을 평가 모드로 두면 백본은 정말로 얼어 있습니다.
#
# 어느 쪽이 옳은지는 상황에 따라 다릅니다. 새 데이터의 분포가 많이 달라 이동 통계를 새로 맞추고 싶을
# 수도 있습니다. 중요한 것은 **의도해서 고르는 것**입니다. 모르는 사이에 이동 통계가 바뀌는 것이 실수입니다.
# `model.train()`은 모든 하위 모듈을 학습 모드로 돌려놓으므로, 배치 정규화 층의 `eval()`은 `train()`을
# 부를 때마다 다시 해야 한다는 점도 기억하세요.

# %% [markdown]
# ## 정리
#
# | 실수 | 증상 | 고치는 방법 |
# | --- | --- | --- |
# | 학습 모드에서 샘플 하나짜리 미니배치 | `ValueError: Expected more than 1 value per channel when training` | `DataLoader(..., drop_last=True)` |
# | 평가할 때 `model.eval()`을 잊음 | 같은 샘플의 예측이 함께 묶인 샘플에 따라 달라짐 | 평가 전에 `model.eval()`, 학습 재개 전에 `model.train()` |
# | `no_grad`면 이동 통계가 그대로라는 착각 | `num_batches_tracked`와 이동 통계가 조용히 바뀜 | 이동 통계를 지키려면 `eval()` |
# | `x.var()`, `x.std()`로 정규화 | 손으로 구한 값이 BN 출력과 다름 | 정규화에는 `unbiased=False` |
# | BN 앞 층의 편향 | 편향의 기울기가 0, 파라미터 낭비 | 앞 층을 `bias=False`로 |
# | 백본을 `requires_grad=False`로만 얼림 | 이동 통계가 새 데이터로 옮겨 가 백본 출력이 바뀜 | BN 층을 `eval()` (매번 `train()` 뒤에) |

# %% [markdown]
# ## 연습 문제
#
# **1.** 샘플이 1000개이고 배치 크기가 64일 때 `drop_last=True`를 주면 에폭마다 몇 개의 샘플이 버려질까요?
# 마지막 미니배치가 샘플 하나짜리가 되는 데이터 수를 배치 크기 64에 대해 하나 말해 보세요.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# $1000 = 64 \cdot 15 + 40$이므로 40개가 버려집니다. 배치 크기가 64일 때 마지막 미니배치가 샘플 하나가
# 되는 것은 데이터 수가 $64k + 1$일 때, 예를 들어 1025개일 때입니다.
#
# </details>
#
# **2.** `BatchNorm2d`에 모양이 $(1, 16, 8, 8)$인 입력, 즉 이미지 한 장을 학습 모드로 넣으면 에러가 날까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 나지 않습니다. 채널마다 통계에 들어가는 값이 $N \cdot H \cdot W = 64$개라서 분산을 계산할 수 있습니다.
# 에러는 채널 하나의 값이 1개일 때, 예를 들어 $(1, 16, 1, 1)$일 때만 납니다. 다만 이미지 한 장의 통계는
# 이미지마다 크게 달라서 학습이 불안정해지기 쉽습니다.
#
# </details>
#
# **3.** 모델 안의 모든 배치 정규화 층을 평가 모드로 두는 함수를 `torch.nn.BatchNorm1d`, `BatchNorm2d`,
# `BatchNorm3d`에 모두 통하게 써 보세요.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 세 클래스는 모두 `torch.nn.modules.batchnorm._BatchNorm`을 물려받습니다.
#
# ```python
# def freeze_bn_stats(model):
#     for m in model.modules():
#         if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
#             m.eval()
# ```
#
# `model.train()`을 부를 때마다 그 뒤에 이 함수를 다시 불러야 합니다.
#
# </details>
