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
# # BN은 어디에 둘까
#
# 배치 정규화(batch normalization, BN) 층을 모델에 넣을 때는 두 가지를 정해야 합니다.
#
# 1. **활성화 함수(activation function)의 앞인가 뒤인가.** `Linear → BN → ReLU`로 둘 수도 있고
#    `Linear → ReLU → BN`으로 둘 수도 있습니다.
# 2. **BN 바로 앞 층의 편향(bias)을 어떻게 하나.** `nn.Linear`와 `nn.Conv2d`는 기본값으로 편향을
#    가집니다.
#
# 두 번째 질문에는 수학으로 답할 수 있습니다. 첫 번째 질문에는 정답이 정해져 있지 않아서, 원 논문의
# 주장과 교재들의 권고, 실제 관행을 살펴본 뒤 이 강좌의 손글씨 숫자 모델로 직접 재 봅니다. 마지막에
# 이 강좌가 따르는 관례를 정합니다. 용어는 [용어집](../glossary.md)에, 인용한 자료는 [참고
# 문헌](../references.md)에 있습니다.

# %%
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from torch import nn

import bnref
from bnref.course.experiments import PLACEMENTS, load_digits, mlp, cnn, train
from bnref.course.printing import fmt, markdown_table
from bnref.course.viz import use_korean_font

use_korean_font()
# 모델이 작아서 스레드를 여럿 쓰면 나눠 주고 기다리는 비용이 계산보다 큽니다. 스레드 하나로 돌립니다.
torch.set_num_threads(1)
data = load_digits()
images = data.images()

# %% [markdown]
# ## 두 가지 자리
#
# [실제 데이터로 학습하기](07_digits_training.py)의 다층 퍼셉트론(multilayer perceptron, MLP)을 두
# 가지로 만듭니다. `bnref.course.experiments.mlp`의 `placement` 인자가 BN의 자리(placement)를 정합니다.
#
# - `"before"`: `Linear(bias=False) → BN → ReLU`. BN이 활성화 함수의 **입력**을 정규화합니다.
# - `"after"`: `Linear → ReLU → BN`. BN이 활성화 함수의 **출력**, 곧 다음 `Linear`의 입력을
#   정규화합니다.
#
# `"before"`에서만 `Linear`의 편향을 뺀 까닭은 다음 절에서 봅니다. 같은 시드로 만든 두 모델은
# 가중치가 같고 편향과 층의 순서만 다르므로, 같은 시드끼리 짝지어 비교(paired comparison)할 수 있습니다.

# %%
def layer_names(model):
    names = []
    for m in model:
        name = type(m).__name__
        if isinstance(m, (nn.Linear, nn.Conv2d)) and m.bias is None:
            name += "(bias=False)"
        names.append(name)
    return " → ".join(names)


for placement in PLACEMENTS:
    model = mlp("bn", placement=placement, seed=0)
    print(f"{placement:>6}:", layer_names(model))
before, after = mlp("bn", seed=0), mlp("bn", placement="after", seed=0)
print("같은 시드의 두 모델은 가중치가 같은가:",
      all(torch.equal(a.weight, b.weight) for a, b in zip(before, after) if isinstance(a, nn.Linear)))

# %% [markdown]
# ## BN 앞의 편향은 지워진다
#
# `Linear`의 출력 $z_i = W x_i + b$를 BN이 받는다고 합시다. 미니배치(mini-batch)의 평균은
# $\mu_\mathcal{B} = W \bar{x} + b$이므로 평균을 빼는 순간 $b$가 사라집니다.
#
# $$z_i - \mu_\mathcal{B} = (W x_i + b) - (W \bar{x} + b) = W (x_i - \bar{x})$$
#
# 분산도 평균을 뺀 값으로 구하므로 $b$와 상관없습니다. 그래서 학습 모드(training mode)에서는
# $\operatorname{BN}(Wx + b) = \operatorname{BN}(Wx)$이고, 출력이 $b$에 달려 있지 않으니 손실의 $b$에
# 대한 기울기(gradient)도 0입니다. [역전파 유도](06_backward.py)의 공식으로도 확인할 수 있습니다. BN의
# 출력 $y_i$에 대한 기울기를 $\delta_i = \partial L / \partial y_i$라 하면 입력 기울기는
#
# $$\frac{\partial L}{\partial z_i} = \frac{\gamma}{n\sigma}\Bigl(n\,\delta_i - \sum_j \delta_j - \hat{z}_i \sum_j \delta_j \hat{z}_j\Bigr)$$
#
# 이고, $\partial L / \partial b$는 이것을 $i$에 대해 더한 것입니다. 더하면 앞의 두 항은 서로 지워지고
# 마지막 항은 $\sum_i \hat{z}_i = 0$이라 사라지므로 0입니다. 편향이 하던 "위치를 옮기는" 일은 BN의
# 시프트(shift) β가 맡습니다.
#
# 숫자로 확인합니다. 편향이 있는 `Linear` 뒤에 `bnref.BatchNorm1d`를 두고, 편향을 그대로 둘 때, 5만큼
# 옮길 때, 아예 뺄 때의 출력을 비교한 뒤, 그 뒤에 ReLU와 분류 층을 붙여 교차 엔트로피(cross entropy)
# 손실의 기울기를 구합니다.

# %%
torch.manual_seed(0)
x, y = data.x_train[:128], data.y_train[:128]
linear = nn.Linear(64, 16).double()
bn = bnref.BatchNorm1d(16, dtype=torch.float64)  # 학습 모드
head = nn.Linear(16, 10).double()

out = bn(linear(x))
with torch.no_grad():
    out_shifted = bn(linear(x) + 5.0)  # 편향 + 5
    out_no_bias = bn(x @ linear.weight.T)  # 편향 없음
loss = nn.functional.cross_entropy(head(torch.relu(out)), y)
loss.backward()

print("편향을 5만큼 옮긴 출력과의 차이 (최댓값):", fmt((out - out_shifted).abs().max(), 6))
print("편향을 뺀 출력과의 차이 (최댓값):       ", fmt((out - out_no_bias).abs().max(), 6))
print("가중치 W의 기울기 (절댓값의 최댓값):    ", fmt(linear.weight.grad.abs().max(), 6))
print("편향 b의 기울기 (절댓값의 최댓값):      ", fmt(linear.bias.grad.abs().max(), 6))
print("b의 기울기가 1e-12보다 작은가:", bool(linear.bias.grad.abs().max() < 1e-12))

# %% [markdown]
# 출력의 차이와 편향의 기울기는 float64의 반올림 오차일 뿐이어서 소수점 여섯째 자리까지 0이고, 편향의
# 기울기는 10⁻¹²보다도 작습니다. 기울기가 0이니 학습해도 편향은 처음 값에서 움직이지 않습니다. 편향을 남긴 모델을 1에폭(epoch)
# 학습해 확인합니다. 같은 것을 합성곱 신경망(convolutional neural network, CNN)의
# `Conv2d → BatchNorm2d`에서도 보고, 비교를 위해 편향이 ReLU를 거쳐 BN에 닿는 `"after"` 모델도 봅니다.

# %%
def movement(model, data):
    """1에폭 학습하는 동안 은닉층 가중치와 편향이 움직인 거리 (절댓값의 최댓값)."""
    hidden = [m for m in model if isinstance(m, (nn.Linear, nn.Conv2d))][:-1]
    start = [(m.weight.detach().clone(), m.bias.detach().clone()) for m in hidden]
    train(model, data, epochs=1, lr=0.1, batch_size=128)
    moved_w = max((m.weight - w).abs().max().item() for m, (w, _) in zip(hidden, start))
    moved_b = max((m.bias - b).abs().max().item() for m, (_, b) in zip(hidden, start))
    return moved_w, moved_b


cases = {
    "MLP, Linear → BN → ReLU (편향 남김)": (mlp("bn", bias=True), data),
    "CNN, Conv → BN → ReLU (편향 남김)": (cnn("bn", bias=True), images),
    "MLP, Linear → ReLU → BN": (mlp("bn", placement="after"), data),
}
rows = [[name, *map(fmt, movement(model, d))] for name, (model, d) in cases.items()]
display(Markdown(markdown_table(["모델", "가중치가 움직인 거리", "편향이 움직인 거리"], rows)))

# %% [markdown]
# BN 바로 앞의 편향은 1에폭 동안 움직이지 않았습니다. 쓸모없는 파라미터이고 메모리와 계산만 씁니다.
# 그래서 BN 바로 앞의 `Linear`와 `Conv2d`는 `bias=False`로 만드는 것이 보통입니다. 원 논문도 3.2절에서
# 같은 이유로 편향을 무시할 수 있고 그 역할은 β가 맡는다고 적었습니다. 반면 `"after"` 모델에서는
# 편향이 ReLU의 문턱을 옮기므로 지워지지 않고 학습됩니다.
#
# 한 가지 조심할 점이 있습니다. 편향이 지워지는 것은 배치 통계를 쓰는 학습 모드의 이야기입니다. 평가
# 모드(evaluation mode)에서는 이동 평균(running mean)을 빼는데, 이동 평균은 학습 중에 편향까지 포함한
# 값을 쌓아 두었으므로 편향이 움직이지 않는 한 결과는 같습니다. 편향을 움직이는 것이 있다면, 예를 들어
# 가중치 감쇠(weight decay)가 편향을 조금씩 0으로 끌어당긴다면, 이동 평균이 그 변화를 늦게 따라가는 만큼
# 학습 때와 평가 때의 출력이 어긋납니다. 연습 문제 3에서 다룹니다.

# %% [markdown]
# ## 활성화 함수의 앞인가 뒤인가: 무엇이 말해졌나
#
# **원 논문.** Ioffe와 Szegedy(2015)는 3.2절에서 BN을 비선형 함수 **바로 앞**, 곧 $x = Wu + b$에
# 두었습니다. 층의 입력 $u$를 정규화할 수도 있지만, $u$는 다른 비선형 함수의 출력이라 학습 중에 분포의
# 모양이 바뀔 수 있어서 첫째와 둘째 모멘트(평균과 분산)만 고정해서는 공변량 변화를 없애지 못할 것이라고
# 보았습니다. 반면 $Wu + b$는 대칭이고 희소하지 않은, "더 가우스 분포에 가까운" 분포일 가능성이 커서
# 정규화하면 분포가 안정될 것이라는 주장입니다. 논문은 이 자리를 다른 자리와 실험으로 비교하지는
# 않았습니다.
#
# **교재.** d2l(Dive into Deep Learning) 8.5절은 완전 연결 층에서 "원 논문은 BN을 아핀 변환 뒤,
# 비선형 활성화 함수 앞에 넣는다"고 쓰고 괄호 안에 "나중의 응용에서는 활성화 함수 바로 뒤에 넣기도
# 한다"고 덧붙입니다. 합성곱 층도 합성곱 뒤, 활성화 함수 앞입니다. CS231n의 강의 노트(Neural Networks
# Part 2)는 "보통 완전 연결 층(또는 합성곱 층) 바로 뒤, 비선형 함수 앞에 넣는다"고 씁니다.
#
# **실제 관행.** ResNet(He 등, 2016)을 비롯해 널리 쓰이는 합성곱 신경망과 torchvision의
# `Conv2dNormActivation`은 `Conv → BN → ReLU` 순서입니다. 하지만 반대 순서도 쓰입니다. Keras의 저자 François Chollet는 2016년에 Szegedy가
# 최근에 쓴 코드는 ReLU 다음에 BN을 둔다며 "여전히 가끔 논쟁거리"라고 적었고(Keras 이슈 #1802), Dmytro
# Mishkin의 CaffeNet 벤치마크에서는 ImageNet(128 픽셀로 줄인 것)에서 ReLU 뒤의 BN이 정확도 0.499로 앞의
# BN(0.474)보다 높았습니다. 조건마다 한 번씩 돌린 결과입니다.
#
# 정리하면, 권고는 "앞"이고 근거는 논리적 추론입니다. 실제 코드에는 두 순서가 다 있고, 인용한 벤치마크는
# 오히려 "뒤"가 나았지만 조건마다 한 번씩 돌린 결과입니다. 이 강좌의 모델로 직접 재 봅니다.

# %% [markdown]
# ## 직접 재 보기: 두 자리의 학습 곡선
#
# MLP와 CNN을 `"before"`와 `"after"`로 만들어, [실제 데이터로 학습하기](07_digits_training.py)와 같은
# 방법인 확률적 경사 하강법(stochastic gradient descent, SGD)과 미니배치 128로, 학습률(learning rate)
# 0.1과 1.0에서 학습합니다. 시드마다 가중치 초기화와 미니배치 순서가 바뀌고, 같은 시드의 두 모델은 같은
# 가중치에서 출발합니다. 에폭마다 테스트 데이터의 정확도(accuracy)와 손실(loss)을 재고, 시드들의 평균과
# 표준편차를 봅니다. 실행 시간을 아끼려고 에폭 수는 조건마다 다르게 잡았습니다. 학습률 0.1의 MLP는
# 느리게 학습되므로 가장 길게 봅니다.

# %%
LEARNING_RATES = [0.1, 1.0]
SETUPS = {  # 이름: (모델을 만드는 함수, 데이터, {학습률: 에폭 수}, 시드 수)
    "MLP": (mlp, data, {0.1: 6, 1.0: 3}, 4),
    "CNN": (cnn, images, {0.1: 3, 1.0: 3}, 3),
}
CONDITIONS = [(name, lr) for name in SETUPS for lr in LEARNING_RATES]

runs = {}  # (모델, 학습률, 자리) → 시드마다의 History
for name, lr in CONDITIONS:
    build, d, epochs, seeds = SETUPS[name]
    for placement in PLACEMENTS:
        runs[name, lr, placement] = [
            train(build("bn", placement=placement, seed=s), d, epochs=epochs[lr], lr=lr, batch_size=128, seed=s)
            for s in range(seeds)]
print("발산한 학습:", sum(h.diverged for hs in runs.values() for h in hs))


def curve(histories, key):
    """에폭마다 시드들의 평균과 표준편차: (에폭 수 + 1,) 두 개."""
    values = torch.tensor([getattr(h, key) for h in histories], dtype=torch.float64)
    return values.mean(0), values.std(0)


fig, axes = plt.subplots(2, 4, figsize=(12.8, 5.6))
for col, (name, lr) in enumerate(CONDITIONS):
    for row, (key, label) in enumerate([("test_acc", "테스트 정확도"), ("test_loss", "테스트 손실")]):
        ax = axes[row, col]
        for placement, color in zip(PLACEMENTS, ["C0", "C1"]):
            mean, std = curve(runs[name, lr, placement], key)
            epochs = range(len(mean))
            ax.plot(epochs, mean, color=color, marker=".", label=placement)
            ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.2)
        ax.set_title(f"{name}, 학습률 {lr:g}: {label}", fontsize=10)
        ax.set_xlabel("에폭")
        ax.set_ylim(*((0, 1) if row == 0 else (0, 2.5)))
        ax.legend(fontsize=8)
fig.suptitle("BN의 자리에 따른 학습 곡선 (선: 시드 평균, 띠: ±1 표준편차)")
fig.tight_layout()
plt.show()

# %% [markdown]
# 그림의 띠가 시드 사이의 흔들림입니다. 두 자리의 차이가 이 흔들림보다 큰지를 표로 봅니다. 같은 시드의
# 두 모델은 같은 가중치에서 출발했으므로, 시드마다 `"after"` − `"before"`의 차이를 구해 그 평균과
# 표준편차를 냅니다. 학습 초반(1에폭)과 마지막 에폭을 함께 봅니다.
#
# "더 나은 쪽" 칸은 짝지은 차이의 평균이 그 표준오차(standard error, 표준편차 ÷ √시드 수)의 두 배보다
# 클 때만 한쪽을 적고, 괄호 안에 그쪽이 나았던 시드의 수를 적습니다. 그보다 작으면 "흔들림 안"입니다. 시드 몇 개로 한
# 대략의 판단이라 통계 검정은 아닙니다.

# %%
def paired(name, lr, key, epoch):
    """시드마다 after − before의 차이 (시드 수,)."""
    a = torch.tensor([getattr(h, key)[epoch] for h in runs[name, lr, "after"]])
    b = torch.tensor([getattr(h, key)[epoch] for h in runs[name, lr, "before"]])
    return a - b


def mean_std(values):
    return f"{fmt(values.mean(), 3)} ± {fmt(values.std(), 3)}"


def verdict(diff, higher_is_better):
    """차이의 평균이 표준오차의 2배보다 크면 나은 쪽과 (그쪽이 나은 시드 수/시드 수), 아니면 '흔들림 안'."""
    if diff.mean().abs() <= 2 * diff.std() / len(diff) ** 0.5:
        return "흔들림 안"
    after_better = (diff.mean() > 0) == higher_is_better
    wins = (diff > 0) == higher_is_better if after_better else (diff < 0) == higher_is_better
    return f"{'after' if after_better else 'before'} ({int(wins.sum())}/{len(diff)})"


def last_epoch(name, lr):
    return SETUPS[name][2][lr]


rows, verdicts = [], {}
for name, lr in CONDITIONS:
    for epoch in (1, last_epoch(name, lr)):
        acc, loss = paired(name, lr, "test_acc", epoch), paired(name, lr, "test_loss", epoch)
        before_acc = torch.tensor([h.test_acc[epoch] for h in runs[name, lr, "before"]])
        verdicts[name, lr, epoch] = (verdict(acc, True), verdict(loss, False))
        rows.append([name, f"{lr:g}", f"{epoch}", mean_std(before_acc), mean_std(acc),
                     verdicts[name, lr, epoch][0], mean_std(loss), verdicts[name, lr, epoch][1]])
display(Markdown(markdown_table(
    ["모델", "학습률", "에폭", "before 정확도", "정확도 차이 (after − before)", "더 나은 쪽",
     "손실 차이 (after − before)", "더 나은 쪽"], rows)))

# %% [markdown]
# 표를 조건마다 한 줄로 줄이고, 네 조건을 모아 셉니다. 정확도와 손실 가운데 하나라도 한쪽이 뚜렷이 나았고
# 다른 하나가 반대쪽을 가리키지 않으면 그쪽이 나았다고 셉니다.

# %%
def side(name, lr, epoch):
    """'after', 'before', '흔들림 안' 또는 '엇갈림'."""
    sides = {v.split()[0] for v in verdicts[name, lr, epoch] if v != "흔들림 안"}
    return "흔들림 안" if not sides else sides.pop() if len(sides) == 1 else "엇갈림"


SAID = {"after": "after가 나았", "before": "before가 나았", "흔들림 안": "차이가 시드 사이 흔들림 안이었",
        "엇갈림": "정확도와 손실이 엇갈렸"}  # 뒤에 "고" 또는 "습니다"를 붙입니다
shrank = 0
for name, lr in CONDITIONS:
    end = last_epoch(name, lr)
    early, late = paired(name, lr, "test_acc", 1).mean().item(), paired(name, lr, "test_acc", end).mean().item()
    shrank += abs(late) < abs(early)
    print(f"{name}, 학습률 {lr:g}: 1에폭에서는 {SAID[side(name, lr, 1)]}고, {end}에폭에서는 "
          f"{SAID[side(name, lr, end)]}습니다 (정확도 차이 {fmt(early, 3)} → {fmt(late, 3)}).")
ends = [side(name, lr, last_epoch(name, lr)) for name, lr in CONDITIONS]
print(f"마지막 에폭: after가 나은 조건 {ends.count('after')}개, before가 나은 조건 {ends.count('before')}개, "
      f"흔들림 안 {ends.count('흔들림 안')}개. 정확도 차이는 {len(CONDITIONS)}개 조건 가운데 "
      f"{shrank}개에서 1에폭보다 마지막 에폭에 작았습니다.")

# %% [markdown]
# ## 차이는 어디서 오나: 마지막 층의 입력
#
# 두 모델은 BN의 개수도 같고 정규화하는 양도 같은데, BN의 자리 말고도 눈에 띄게 다른 것이 하나 있습니다.
# 분류를 맡는 마지막 `Linear`가 받는 입력입니다. `"after"`에서는 마지막 은닉층의 BN이 그 입력을 평균 0, 분산 1로 맞춰
# 주지만, `"before"`에서는 ReLU의 출력이 그대로 들어갑니다. ReLU의 출력은 0 이상이라 평균이 0이 아니고,
# 층의 입력 평균이 0에서 멀면 경사 하강법이 느려진다는 것은 오래전부터 알려진 일입니다(LeCun 등, 1998).
#
# 이 짐작이 맞는지 보려면 `"before"` 모델의 마지막 `Linear` 앞에만 BN을 하나 더 넣어 보면 됩니다. 나머지는
# `"before"` 그대로이고 가중치도 같습니다. 마지막 에폭의 손실 차이가 가장 뚜렷했던(차이의 평균 ÷ 표준편차의
# 절댓값이 가장 큰) 조건에서 세 모델의 학습 곡선을 비교합니다.

# %%
def before_with_head_bn(build, seed):
    """"before" 모델의 마지막 Linear 앞에 BN을 하나 더 넣은 모델 (가중치는 "before"와 같음)."""
    layers = list(build("bn", seed=seed))
    head = layers[-1]
    layers.insert(len(layers) - 1, bnref.BatchNorm1d(head.in_features, dtype=torch.float64))
    return nn.Sequential(*layers)


def clearness(name, lr):
    diff = paired(name, lr, "test_loss", last_epoch(name, lr))
    return (diff.mean() / diff.std()).abs().item()


name, lr = max(CONDITIONS, key=lambda c: clearness(*c))
build, d, epochs, seeds = SETUPS[name]
variants = {placement: runs[name, lr, placement] for placement in PLACEMENTS}
variants["before + 마지막 층 앞 BN"] = [
    train(before_with_head_bn(build, s), d, epochs=epochs[lr], lr=lr, batch_size=128, seed=s) for s in range(seeds)]

fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.4))
for (label, histories), style in zip(variants.items(), ["o-", "s-", "^--"]):
    for ax, key in zip(axes, ["test_acc", "test_loss"]):
        mean, std = curve(histories, key)
        ax.errorbar(range(1, len(mean)), mean[1:], yerr=std[1:], fmt=style, capsize=3, label=label)
for ax, title in zip(axes, ["테스트 정확도", "테스트 손실"]):
    ax.set_title(title)
    ax.set_xlabel("에폭")
    ax.legend(fontsize=8)
fig.suptitle(f"{name}, 학습률 {lr:g}: 분류 층 앞에 BN을 넣은 before (막대: ±1 표준편차)")
fig.tight_layout()
plt.show()


def area(histories, key):
    """1에폭부터 마지막 에폭까지의 값의 평균 (곡선 아래 넓이), 시드 평균."""
    return torch.tensor([getattr(h, key)[1:] for h in histories]).mean().item()


closed = []
for key, label in [("test_acc", "정확도"), ("test_loss", "손실")]:
    b, a, h = (area(variants[k], key) for k in variants)
    closed.append((h - b) / (a - b))
    print(f"에폭 평균 테스트 {label}: before {fmt(b, 3)}, after {fmt(a, 3)}, before + 마지막 층 앞 BN {fmt(h, 3)} "
          f"→ before와 after의 차이 가운데 {fmt(100 * closed[-1], 0)}%를 메움")
if min(closed) >= 0.75:
    print("두 값 모두 차이의 대부분을 메웠습니다. 이 조건에서는 after가 빨랐던 까닭의 대부분을 활성화 함수의 앞이냐 "
          "뒤냐보다 분류 층의 입력이 정규화되어 있느냐로 설명할 수 있습니다.")
elif max(closed) < 0.25:
    print("차이를 거의 메우지 못했습니다. 분류 층의 입력만으로는 after가 빨랐던 까닭이 설명되지 않습니다.")
else:
    print("차이의 일부만 메웠습니다. 분류 층의 입력은 까닭의 일부일 뿐입니다.")

# %% [markdown]
# ## 이 차이는 얼마나 의미가 있나
#
# 측정된 차이를 얼마나 믿을지는 시드 사이의 흔들림, 차이가 학습 내내 남는지, 측정의 범위에 달려 있습니다.
# 앞의 둘은 숫자로 정리합니다.

# %%
spread = {(name, lr): max(torch.tensor([h.test_acc[-1] for h in runs[name, lr, p]]).std().item() for p in PLACEMENTS)
          for name, lr in CONDITIONS}
noisiest = max(spread, key=spread.get)
quiet = [c for c in CONDITIONS if c != noisiest]
print(f"마지막 에폭 정확도의 시드 사이 표준편차: 가장 큰 조건은 {noisiest[0]}, 학습률 {noisiest[1]:g} "
      f"({fmt(spread[noisiest], 3)}), 나머지 조건은 {fmt(min(spread[c] for c in quiet), 3)}~"
      f"{fmt(max(spread[c] for c in quiet), 3)}입니다.")
if ends.count("before") == 0:
    print(f"마지막 에폭에 before가 뚜렷이 나은 조건은 없었고, after가 나은 조건은 {ends.count('after')}개였습니다.")
else:
    print(f"마지막 에폭에 before가 뚜렷이 나은 조건이 {ends.count('before')}개, after가 나은 조건이 "
          f"{ends.count('after')}개였습니다. 어느 한쪽이 언제나 낫지는 않았습니다.")
lengths = sorted({e for _, _, epochs, _ in SETUPS.values() for e in epochs.values()})
print(f"정확도 차이는 {len(CONDITIONS)}개 조건 가운데 {shrank}개에서 학습이 진행되며 줄었습니다. 학습이 "
      f"{lengths[0]}~{lengths[-1]}에폭으로 짧아 마지막 에폭에도 아직 학습 중이므로, 끝까지 학습했을 때 차이가 "
      "남는지는 이 측정으로 말할 수 없습니다.")

# %% [markdown]
# 측정의 범위도 분명히 해 둡니다. 8×8 손글씨 숫자, 은닉층 두 개짜리 작은 모델, 몇 에폭의 짧은 학습, 시드 몇
# 개입니다. 학습이 짧아서 학습 초반의 차이가 크게 보이고, 큰 모델이나 긴 학습에서 같은 차이가 난다는 근거는
# 아닙니다. 앞에서 인용한 Mishkin의 벤치마크도 조건마다 한 번씩 돌린 결과라서 시드 사이의 흔들림을 알 수
# 없습니다. 자리에 대한 주장은 어느 쪽이든 이런 불확실성을 감안하고 읽어야 합니다.
#
# ## 이 강좌의 관례
#
# 이 강좌는 **`Linear`/`Conv2d`(`bias=False`) → BN → 활성화 함수**로 둡니다. 이 관례는 위의 측정에서 나온
# 것이 아닙니다. 측정 결과는 위에 출력된 그대로이고, after의 이득이 어디서 왔는지는 분류 층 앞에 BN을 넣은
# 실험이 한 조건에서 보여 줍니다. 다른 조건, 특히 CNN에서도 같은지는 재지 않았습니다. 관례를 이렇게 정한
# 까닭은 다음과 같습니다.
#
# - 원 논문과 d2l, CS231n이 이 순서로 설명하고, ResNet과 torchvision처럼 독자가 실제로 만날 코드 대부분이
#   이 순서입니다. 강좌의 코드가 독자가 읽을 코드와 같은 모양인 편이 낫습니다.
# - BN이 `Linear`/`Conv2d` 바로 뒤에 있으면 평가 모드의 BN을 그 층에 접어 넣을(folding) 수 있습니다
#   ([추론 단계의 BN](16_inference.py)). 추론 때 BN의 비용이 사라집니다. `"after"`에서도 BN을 다음 층에
#   접을 수는 있지만(연습 문제 2), 다음 층이 0으로 패딩하는 합성곱이면 가장자리에서 정확하지 않습니다.
# - 바로 앞 층의 편향이 수학적으로 지워지므로 `bias=False`로 파라미터를 아낄 자리가 분명합니다.
# - 이 강의에서 잰 차이는 작은 모델의 짧은 학습에서 난 것이라, 관례를 바꿀 근거로 삼기에는 범위가 좁습니다.
#
# 그래서 이 강좌의 모델은 모두 이 순서입니다. [왜 정규화하는가](01_why_normalize.py)의 예제는 BN을
# 선형층과 ReLU 사이에 두고, [실제 데이터로 학습하기](07_digits_training.py)와 [작은 배치와
# 대안들](12_small_batches.py)의 모델은 `Linear(bias=False) → 정규화 층 → ReLU`입니다.
#
# 다음 강의 [규제 효과와 배치 크기](09_regularization.py)에서는 BN이 과적합(overfitting)을 막는 효과가
# 있는지를 잽니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** `Linear → BN → ReLU`에서 `Linear`의 편향을 남겨 두면 파라미터가 몇 개 늘어날까요? 이 강의의
# MLP(은닉층 두 개, 각 뉴런 64개)로 세어 보세요. 이 편향들은 학습에 어떤 영향을 줄까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 은닉층마다 64개씩, 모두 128개입니다. 학습 모드에서 BN이 평균을 빼면서 지워 버리므로 출력에도 손실에도
# 영향이 없고, 기울기가 0이라 처음 값에서 움직이지도 않습니다. 메모리와 계산만 조금 더 쓰는 셈입니다.
# 직접 `mlp("bn", bias=True)`로 만들어 `sum(p.numel() for p in model.parameters())`를 `mlp("bn")`과
# 비교해 보세요.
#
# </details>
#
# **2.** `Linear → ReLU → BN → Linear`에서 BN의 시프트 β와 다음 `Linear`의 편향은 어떤 관계일까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 평가 모드의 BN은 특성마다 $y = a \cdot h + \beta'$ 꼴의 아핀 변환입니다. 다음 층이 $W y + b$를 계산하면
# $W(a \cdot h + \beta') + b = (W \operatorname{diag}(a)) h + (W \beta' + b)$이므로, β가 하는 일은 다음 층의
# 편향이 할 수 있는 일과 겹칩니다. 스케일(scale) γ도 다음 층의 가중치 열을 키우고 줄이는 것으로 흉내 낼 수
# 있습니다. 그래서 `"after"` 자리에서는 β와 γ가 거의 남는 파라미터가 됩니다.
#
# </details>
#
# **3.** BN 앞의 편향을 남긴 채 가중치 감쇠(weight decay)로 학습하면 무슨 일이 생길까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 손실의 기울기는 0이지만, 가중치 감쇠는 스텝마다 편향을 $(1 - \eta\lambda)$배로 줄입니다. 편향은 0을
# 향해 조금씩 움직이고, 학습 모드의 출력은 여전히 편향과 상관없습니다. 하지만 이동 평균은 모멘텀(momentum) 0.1로
# 편향의 변화를 늦게 따라가므로, 평가 모드에서는 "지금의 편향 − 이동 평균에 섞인 예전 편향"만큼 출력이
# 어긋납니다. 보통은 작지만, 쓸모없는 파라미터가 학습과 평가의 차이만 만든다는 점에서 `bias=False`가
# 낫습니다.
#
# </details>
#
# **4.** 이 강의의 측정에서 시드를 더 늘리거나 에폭을 늘리면 표의 "더 나은 쪽" 칸이 어떻게 바뀔 것
# 같나요? `SETUPS`의 숫자를 바꿔 확인해 보세요.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 시드를 늘리면 표준오차가 $1/\sqrt{\text{시드 수}}$로 줄어서, 같은 크기의 차이도 "흔들림 안"에서 한쪽으로
# 판정되기 쉬워집니다. 차이가 작아도 확실하게 보일 수 있다는 뜻이지, 차이가 커진다는 뜻은 아닙니다.
# 에폭을 늘리면 두 모델 모두 학습이 끝나 가므로 정확도 차이는 대개 줄어듭니다. 학습 속도의 차이와
# 도달한 정확도의 차이는 따로 읽어야 합니다.
#
# </details>
