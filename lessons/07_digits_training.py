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
# # 실제 데이터로 학습하기
#
# 지금까지는 무작위로 만든 작은 미니배치(mini-batch)로 배치 정규화(batch normalization)가 무엇을
# 계산하는지 확인했습니다. 이번에는 실제 데이터로 신경망을 학습시키면서, 배치 정규화가 학습을
# 어떻게 바꾸는지 직접 잽니다. 같은 모델을 배치 정규화가 있을 때와 없을 때로 나누어 네 가지를
# 비교하고, 학습이 끝난 배치 정규화 층 안을 들여다봅니다.
#
# 1. 학습 곡선: 손실(loss)과 정확도(accuracy)가 얼마나 빨리 좋아지는가
# 2. BN은 무엇을 배웠나: 학습된 스케일 γ와 시프트 β, 이동 통계
# 3. 학습률(learning rate): 얼마나 큰 학습률까지 견디는가
# 4. 초기화(initialization): 가중치의 처음 크기에 얼마나 민감한가
# 5. 원 논문의 그림 1: 한 뉴런이 받는 입력의 분포가 학습 중에 어떻게 움직이는가
#
# 실험 하나하나는 몇 초 안에 끝나도록 작게 잡았습니다. 숫자는 모두 코드가 계산해서 출력한 것이고,
# 시드를 고정했으므로 몇 번을 실행해도 같습니다.

# %%
import copy

import matplotlib.pyplot as plt
import sklearn.datasets
import torch
from IPython.display import Markdown, display

from bnref.course.experiments import cnn, load_digits, mlp, train
from bnref.course.printing import fmt, markdown_table
from bnref.course.probes import dead_relu_fraction, effective_lr, population_stats, weights_feeding_bn
from bnref.course.viz import use_korean_font

use_korean_font()
# 모델이 작아서 스레드를 여럿 쓰면 나눠 주고 기다리는 비용이 계산보다 큽니다. 스레드 하나로 돌립니다.
torch.set_num_threads(1)

# %% [markdown]
# ## 데이터: 8×8 손글씨 숫자
#
# scikit-learn에 들어 있는 손글씨 숫자 데이터(`load_digits`)를 씁니다. 0부터 9까지의 숫자를
# 8×8 픽셀로 줄인 흑백 이미지 1,797장이고, 패키지 안에 들어 있어서 내려받을 필요가 없습니다.
# `bnref.course.experiments.load_digits`는 이것을 학습 데이터(training set)와 테스트 데이터(test set)로
# 나누고, 픽셀마다 평균 0, 분산 1이 되도록 정규화합니다. 이 평균과 분산은 학습 데이터에서만
# 구합니다. 테스트 데이터의 통계를 쓰면 테스트 데이터를 미리 엿보는 셈이 되기 때문입니다.

# %%
data = load_digits()
print("학습 데이터:", tuple(data.x_train.shape), " 테스트 데이터:", tuple(data.x_test.shape))
print("학습 데이터 픽셀 평균:", fmt(data.x_train.mean(), 3))

# 그림은 정규화하기 전의 원래 픽셀 값(0~16)으로 그립니다. 픽셀마다 정규화한 값은 사람 눈에는 알아보기 어렵습니다.
raw = sklearn.datasets.load_digits()
fig, axes = plt.subplots(1, 8, figsize=(6.4, 1.2))
for ax, image, label in zip(axes, raw.images[:8], raw.target[:8]):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(f"{label}")
    ax.axis("off")
fig.suptitle("digits 데이터의 처음 8장 (제목은 정답, 정규화 전)", y=1.05)
plt.show()

# %% [markdown]
# ## 모델: 작은 다층 퍼셉트론
#
# 64개 픽셀을 받아 뉴런(neuron) 64개짜리 은닉층(hidden layer) 두 개를 지나 10개 숫자 중 하나를 고르는
# 다층 퍼셉트론(multilayer perceptron, MLP)입니다. `mlp(None)`은 `Linear → ReLU`를 두 번 쌓고,
# `mlp("bn")`은 그 사이에 `bnref.BatchNorm1d`를 넣어 `Linear → BN → ReLU`를 두 번 쌓습니다.
# 배치 정규화가 있을 때는 그 앞 `Linear`의 편향을 뺍니다. 배치 정규화가 평균을 빼면서 편향을
# 어차피 지워 버리고, 그 역할은 시프트 β가 대신하기 때문입니다. 두 모델의 가중치는 같은 시드로
# 초기화합니다.
#
# 학습은 확률적 경사 하강법(stochastic gradient descent, SGD)으로, 샘플 128개짜리 미니배치로
# 합니다. 학습 데이터를 한 번 다 도는 것을 에폭(epoch)이라고 하며, 한 에폭은 10스텝입니다.

# %%
EPOCHS, BATCH = 10, 128

models = {"BN 없음": mlp(None), "BN 있음": mlp("bn")}  # 아래 "BN은 무엇을 배웠나"에서 다시 씁니다
histories = {name: train(model, data, epochs=EPOCHS, lr=0.1, batch_size=BATCH)
             for name, model in models.items()}


def plot_curves(histories, title):
    """왼쪽: 스텝마다의 미니배치 손실, 오른쪽: 에폭마다의 테스트 정확도."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9.6, 3.4))
    for name, h in histories.items():
        ax_loss.plot(range(1, len(h.step_loss) + 1), h.step_loss, label=name)
        ax_acc.plot(range(len(h.test_acc)), h.test_acc, marker=".", label=name)
    ax_loss.set_title("학습 손실 (미니배치)")
    ax_loss.set_xlabel("스텝")
    ax_loss.set_ylabel("교차 엔트로피 손실")
    ax_acc.set_title("테스트 정확도")
    ax_acc.set_xlabel("에폭")
    ax_acc.set_ylabel("정확도")
    ax_acc.set_ylim(0, 1)
    for ax in (ax_loss, ax_acc):
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def summary_table(histories, epochs_shown):
    """에폭별 테스트 정확도와 마지막 에폭의 학습 손실, 그리고 두 모델의 비교 한 줄."""
    headers = ["모델", *[f"{e}에폭 정확도" for e in epochs_shown], "마지막 에폭 학습 손실"]
    rows = [[name, *[fmt(h.test_acc[e], 3) for e in epochs_shown], fmt(h.train_loss[-1], 4)]
            for name, h in histories.items()]
    display(Markdown(markdown_table(headers, rows)))
    plain, bn = histories["BN 없음"], histories["BN 있음"]
    ahead = sum(b > p for b, p in zip(bn.test_acc[1:], plain.test_acc[1:]))
    epochs = len(bn.test_acc) - 1
    print(f"BN 있음의 테스트 정확도가 더 높았던 에폭: {epochs}에폭 가운데 {ahead}에폭")


plot_curves(histories, "다층 퍼셉트론, 학습률 0.1")
summary_table(histories, [1, 3, EPOCHS])

# %% [markdown]
# 손실은 교차 엔트로피(cross entropy)이고, 정확도는 테스트 데이터 450장 가운데
# 맞힌 비율입니다. 테스트 정확도는 평가 모드(evaluation mode)에서 재므로, 배치 정규화 층은
# 학습 중에 쌓은 이동 평균(running mean)과 이동 분산(running variance)으로 정규화합니다.

# %% [markdown]
# ## 합성곱 신경망에서도
#
# 같은 비교를 작은 합성곱 신경망(convolutional neural network, CNN)으로 해 봅니다. 이미지를
# $(N, 1, 8, 8)$ 모양으로 받아 `Conv 3×3 → [BN] → ReLU → MaxPool`을 두 번 지나고(채널 8개, 16개),
# 마지막에 `Linear`로 10개 숫자를 고릅니다. 배치 정규화는 `bnref.BatchNorm2d`이고, 채널마다
# $N, H, W$ 방향을 모두 모아 통계를 냅니다([CNN 속의 BN](05_batchnorm2d.py)).

# %%
CNN_EPOCHS = 6
images = data.images()  # (N, 64) → (N, 1, 8, 8)
cnn_histories = {
    "BN 없음": train(cnn(None), images, epochs=CNN_EPOCHS, lr=0.1, batch_size=BATCH),
    "BN 있음": train(cnn("bn"), images, epochs=CNN_EPOCHS, lr=0.1, batch_size=BATCH),
}
plot_curves(cnn_histories, "합성곱 신경망, 학습률 0.1")
summary_table(cnn_histories, [1, 3, CNN_EPOCHS])

# %% [markdown]
# 다층 퍼셉트론과 합성곱 신경망 모두, 표 아래의 한 줄이 비교의 결과입니다. 이 비교는 시드 하나, 학습률
# 하나에서 잰 것입니다. 아래에서 학습률과 초기화를 바꿔 가며 다시 봅니다.

# %% [markdown]
# ## BN은 무엇을 배웠나
#
# 배치 정규화 층에는 학습으로 정해지는 스케일(scale) γ와 시프트(shift) β가 있고, 학습 중에 쌓은 이동 통계
# (running statistics)가 있습니다. 앞에서 학습한 다층 퍼셉트론 `models["BN 있음"]`의 두 배치 정규화 층에서
# 이 값들을 꺼내 봅니다.
#
# [왜 정규화하는가](01_why_normalize.py)에서 γ와 β가 정규화를 되돌릴 수도 있다고 했습니다. 특성 $j$로
# 들어오는 값 $x_j$를 데이터 전체에서 잰 평균과 분산(모집단 통계, population statistics)으로
#
# $$\gamma_j = \sqrt{\operatorname{Var}[x_j] + \epsilon}, \qquad \beta_j = \operatorname{E}[x_j]$$
#
# 가 되면 배치 정규화 층은 $x_j$를 그대로 내보냅니다(Ioffe & Szegedy, 2015). 평가 모드에서는 이동 통계가
# 모집단 통계와 같다면 정확히 그렇고, 학습 모드(training mode)에서는 배치 통계(batch statistics)가 모집단
# 통계 근처에서 흔들리는 만큼 어긋납니다. γ와 β는 모든
# 미니배치에 같은 값이라서 미니배치마다 다른 배치 통계를 되돌릴 수는 없습니다. 되돌릴 수 있는 것은
# 모집단 통계뿐입니다.
#
# 학습이 정말 그쪽으로 갔는지 봅니다. 모집단 통계는 학습 데이터 1,347장 전체를 한 배치로 보고
# 구합니다. 이동 통계는 그 모집단 통계의 추정값이므로, 학습 데이터와 테스트 데이터 450장 각각의
# 모집단 통계와 비교합니다. `bnref.course.probes.population_stats`는 평가 모드로 데이터를 흘려 각 배치
# 정규화 층이 받는 값의 평균과 분산을 구하므로, 재는 동안 이동 통계는 바뀌지 않습니다. 분산은
# 정규화에 쓰는 것과 같은 편향 분산(n으로 나눈 분산)입니다.

# %%
bn_model = models["BN 있음"]
bn_layers = [m for m in bn_model if hasattr(m, "running_mean")]
train_stats = population_stats(bn_model, data.x_train)  # 층마다 (평균, 분산), 각각 (64,)
test_stats = population_stats(bn_model, data.x_test)

fig, axes = plt.subplots(1, 4, figsize=(12.8, 3.4))
for i, (bn, (mean, var), (test_mean, test_var)) in enumerate(zip(bn_layers, train_stats, test_stats)):
    label = f"{i + 1}층"
    undo_gamma = (var + bn.eps).sqrt()
    axes[0].scatter(undo_gamma, bn.weight.detach(), s=8, label=label)
    axes[1].scatter(mean, bn.bias.detach(), s=8, label=label)
    axes[2].scatter(test_mean, bn.running_mean, s=8, label=label)
    axes[3].scatter(test_var, bn.running_var, s=8, label=label)
titles = [("학습된 γ", "되돌리는 값 √(Var[x]+ε) (학습 데이터)", "γ"),
          ("학습된 β", "되돌리는 값 E[x] (학습 데이터)", "β"),
          ("이동 평균", "테스트 데이터의 평균", "이동 평균"),
          ("이동 분산", "테스트 데이터의 분산", "이동 분산")]
for ax, (title, xlabel, ylabel) in zip(axes, titles):
    low, high = min(ax.get_xlim()[0], ax.get_ylim()[0]), max(ax.get_xlim()[1], ax.get_ylim()[1])
    ax.plot([low, high], [low, high], color="gray", linewidth=0.8, label="y = x")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=7)
fig.suptitle("BN이 배운 것: 점 하나가 뉴런 하나 (회색 선 위라면 가로축의 값과 같음)")
fig.tight_layout()
plt.show()

# %% [markdown]
# 그림의 왼쪽 두 칸이 γ, β이고, 회색 선(y = x) 위의 점은 γ나 β가 정규화를 되돌리는 값과 같은 뉴런입니다.
# 숫자로도 정리합니다. "되돌리는 γ에 가까운 뉴런"은 γ가 $\sqrt{\operatorname{Var}[x_j] + \epsilon}$의 ±10%
# 안에 든 뉴런 수이고, 이동 분산은 모집단 분산에 대한 비의 중앙값으로 나타냅니다.

# %%
rows = []
for i, (bn, (mean, var), (test_mean, test_var)) in enumerate(zip(bn_layers, train_stats, test_stats)):
    gamma, beta = bn.weight.detach(), bn.bias.detach()
    undo_gamma = (var + bn.eps).sqrt()
    near = ((gamma / undo_gamma - 1).abs() <= 0.1).sum().item()
    rows.append([f"{i + 1}층", f"{fmt(gamma.min(), 3)} ~ {fmt(gamma.max(), 3)}",
                 f"{fmt(beta.min(), 3)} ~ {fmt(beta.max(), 3)}",
                 f"{fmt(undo_gamma.min(), 3)} ~ {fmt(undo_gamma.max(), 3)}", f"{near} / {len(gamma)}",
                 fmt((bn.running_var / var).median(), 3), fmt((bn.running_var / test_var).median(), 3)])
display(Markdown(markdown_table(
    ["층", "γ (최소 ~ 최대)", "β (최소 ~ 최대)", "되돌리는 γ (최소 ~ 최대)", "되돌리는 γ에 가까운 뉴런",
     "이동 분산 / 학습 데이터 분산", "이동 분산 / 테스트 데이터 분산"], rows)))

for i, (bn, (_, var), (_, test_var)) in enumerate(zip(bn_layers, train_stats, test_stats)):
    to_train = (bn.running_var / var).median().log().abs()
    to_test = (bn.running_var / test_var).median().log().abs()
    print(f"{i + 1}층의 이동 분산은", "학습" if to_train < to_test else "테스트", "데이터의 분산에 더 가까웠습니다.")
moved = max((bn.weight.detach() - 1).abs().max().item() for bn in bn_layers)
undone = sum(int(r[4].split(" / ")[0]) for r in rows)
print(f"γ가 처음 값 1에서 가장 많이 움직인 폭: {fmt(moved, 3)}")
if undone == 0:
    print("정규화를 되돌리는 γ에 가까운 뉴런은 하나도 없었습니다. 이 학습에서 BN은 정규화를 되돌리지 않았습니다.")
else:
    print(f"정규화를 되돌리는 γ에 가까운 뉴런이 {undone}개 있었습니다.")

# %% [markdown]
# 이동 분산이 학습 데이터의 분산과 테스트 데이터의 분산 가운데 어느 쪽에 가까운지는 위 표의 마지막
# 두 열이 보여 줍니다. 이동 통계는 학습 데이터에서 쌓은 값이므로 학습 데이터의 모집단 통계를 추정합니다.
# 테스트 데이터의 분포가 학습 데이터와 다르면 그만큼 어긋납니다. 이 데이터에서 한 가지 까닭을 잴 수
# 있습니다. 입력 픽셀은 학습 데이터의 평균과 표준편차로 정규화했으므로, 학습 데이터에서 거의 늘 0인
# 픽셀은 표준편차가 아주 작고, 테스트 데이터에서 그 픽셀이 조금만 켜져도 아주 큰 값이 됩니다.

# %%
pixel_var = data.x_test.var(0, correction=0)
rare = pixel_var.topk(3).indices
print("테스트 데이터에서 분산이 가장 큰 픽셀 3개의 분산:", fmt(pixel_var[rare], 2),
      "/ 같은 픽셀의 학습 데이터 분산:", fmt(data.x_train.var(0, correction=0)[rare], 2))
x_test_without = data.x_test.clone()
x_test_without[:, rare] = 0.0  # 그 세 픽셀을 학습 데이터의 평균(정규화 후 0)으로
(_, var_without), _ = population_stats(bn_model, x_test_without)
print("1층 이동 분산 / 테스트 데이터 분산 (중앙값):", fmt((bn_layers[0].running_var / test_stats[0][1]).median(), 3),
      "→ 세 픽셀을 0으로 두면", fmt((bn_layers[0].running_var / var_without).median(), 3))

# %% [markdown]
# 세 픽셀을 학습 데이터의 평균으로 바꾸기만 해도 비가 1 근처로 돌아옵니다. 1층에서 이동 분산이 테스트
# 데이터의 분산과 어긋난 것은 대부분 이 몇 픽셀 때문입니다.
#
# 마지막으로 "되돌리기"를 직접 해 봅니다. 1층 배치 정규화의 복사본에 $\gamma = \sqrt{\text{이동 분산} + \epsilon}$,
# $\beta = \text{이동 평균}$을 넣으면, 평가 모드에서는 이동 통계로 정규화하므로 입력이 그대로 나와야 합니다.
# 학습 모드에서는 미니배치의 배치 통계로 정규화하므로 그렇지 않습니다.

# %%
undo = copy.deepcopy(bn_layers[0])
with torch.no_grad():
    undo.weight.copy_((undo.running_var + undo.eps).sqrt())
    undo.bias.copy_(undo.running_mean)
    x_in = bn_model[0](data.x_train[:BATCH])  # 1층 배치 정규화가 받는 값, 미니배치 하나
    eval_gap = (undo.eval()(x_in) - x_in).abs().max()
    train_gap = (undo.train()(x_in) - x_in).abs().max()
print("평가 모드: 최대 |BN(x) − x| =", fmt(eval_gap, 4))
print("학습 모드: 최대 |BN(x) − x| =", fmt(train_gap, 4), f"(입력의 최대 |x| = {fmt(x_in.abs().max(), 4)})")

# %% [markdown]
# 평가 모드에서는 (부동소수점 오차 안에서) 정확히 되돌아오고, 학습 모드에서는 위의 차이만큼 남습니다.
# 고정된 γ, β가 되돌릴 수 있는 것은 모집단 통계(여기서는 그 추정값인 이동 통계)로 한 정규화뿐이라는
# 뜻입니다. 되돌리는 일이 **가능하다**는 것은 배치 정규화를 넣어도 층이 표현할 수 있는 것이 줄지 않는다는
# 보장일 뿐, 학습이 그 값을 찾아간다는 뜻은 아닙니다. 이 모델의 학습이 어디로 갔는지는 앞에서 출력한
# "γ가 처음 값 1에서 가장 많이 움직인 폭"과 그 아래 줄이 답합니다.

# %% [markdown]
# ## 학습률: 얼마나 크게 잡을 수 있나
#
# 배치 정규화를 제안한 논문(Ioffe & Szegedy, 2015)은 배치 정규화 덕분에 학습률을 크게 잡을 수 있다고
# 했습니다. 학습률을 0.1부터 세 배 남짓씩 키우면서 5에폭 학습한 뒤의 테스트 정확도를 잽니다. 손실이
# 무한대나 NaN이 되면(발산, divergence) 그 자리에서 멈추고 "발산"이라고 적습니다.

# %%
LEARNING_RATES = [0.1, 0.3, 1.0, 3.0, 10.0]
SWEEP_EPOCHS = 5
THRESHOLD = 0.9  # 이 정확도에 닿으면 "학습이 됐다"고 봅니다


def final_accuracy(h):
    return None if h.diverged else h.test_acc[-1]


def sweep_run(norm, lr):
    """학습한 뒤 (테스트 정확도, 테스트 이미지에 대해 예측한 숫자의 종류 수, 은닉층마다 죽은 ReLU의 비율).
    발산하면 (None, None, None)."""
    model = mlp(norm)
    h = train(model, data, epochs=SWEEP_EPOCHS, lr=lr, batch_size=BATCH)
    if h.diverged:
        return None, None, None
    with torch.no_grad():
        kinds = model.eval()(data.x_test).argmax(1).unique().numel()
    return h.test_acc[-1], kinds, dead_relu_fraction(model, data.x_train)


sweep = {name: [sweep_run(norm, lr) for lr in LEARNING_RATES]
         for name, norm in [("BN 없음", None), ("BN 있음", "bn")]}
lr_results = {name: [acc for acc, _, _ in runs] for name, runs in sweep.items()}


def cell(acc):
    return "발산" if acc is None else fmt(acc, 3)


headers, rows = ["학습률"], [[f"{lr:g}"] for lr in LEARNING_RATES]
for name, runs in sweep.items():
    headers += [f"{name}: 정확도", f"{name}: 예측한 숫자 종류", f"{name}: 죽은 ReLU 비율 (1층, 2층)"]
    for row, (acc, kinds, dead) in zip(rows, runs):
        row += [cell(acc), "-" if kinds is None else str(kinds),
                "-" if dead is None else ", ".join(fmt(d, 2) for d in dead)]
display(Markdown(markdown_table(headers, rows)))


def largest_good(values, accuracies):
    """정확도가 THRESHOLD 이상인 가장 큰 값 (없으면 None)."""
    good = [v for v, acc in zip(values, accuracies) if acc is not None and acc >= THRESHOLD]
    return max(good) if good else None


best = {name: largest_good(LEARNING_RATES, accuracies) for name, accuracies in lr_results.items()}
for name, lr in best.items():
    print(f"{name}: 정확도 {THRESHOLD} 이상인 가장 큰 학습률 =", "없음" if lr is None else f"{lr:g}")
if None not in best.values():
    ratio = best["BN 있음"] / best["BN 없음"]
    if ratio > 1:
        print(f"→ 이 모델에서 배치 정규화는 {ratio:g}배 큰 학습률까지 견뎠습니다.")
    elif ratio < 1:
        print(f"→ 이 모델에서는 배치 정규화가 없는 쪽이 {1 / ratio:g}배 큰 학습률까지 견뎠습니다.")
    else:
        print("→ 이 모델에서는 두 쪽이 견딘 가장 큰 학습률이 같았습니다.")

for name, runs in sweep.items():
    for lr, (acc, kinds, dead) in zip(LEARNING_RATES, runs):
        if kinds is not None and kinds < 10:
            all_dead = [f"{i + 1}층" for i, d in enumerate(dead) if d == 1.0]
            print(f"{name}, 학습률 {lr:g}: 숫자 {kinds}가지로만 답했습니다(정확도 {fmt(acc, 3)}).",
                  f"{', '.join(all_dead)}의 ReLU가 학습 데이터 전체에서 모두 죽어 있었습니다." if all_dead
                  else f"죽은 ReLU 비율은 층마다 {', '.join(fmt(d, 2) for d in dead)}였습니다.")

# %% [markdown]
# "죽은 ReLU 비율"은 학습 데이터 1,347장 **모두**에서 입력이 0 이하인 뉴런의 비율입니다
# (`bnref.course.probes.dead_relu_fraction`). 그런 뉴런은 출력이 늘 0이고 기울기도 0이라서, 그 앞의
# 가중치는 다시 바뀌지 않습니다(죽은 ReLU, dead ReLU). 한 층의 ReLU가 모두 죽으면 그 층의 출력은 입력과
# 상관없이 0이므로, 마지막 층은 모든 이미지에 같은 값을 받아 같은 숫자로 답합니다. 숫자 10개가 거의 같은
# 수씩 들어 있으므로 그때 정확도는 약 0.1입니다. 위에서 출력한 줄들이 정확도가 0.1 근처인 칸마다 이것을
# 확인합니다. ReLU가 다 죽지 않아도 한 층의 대부분이 죽으면, 출력한 줄의 마지막 경우처럼 몇 가지 숫자로만
# 답하기도 합니다.
#
# 이 비교의 해상도도 기억해 둡니다. 학습률은 세 배 남짓 간격으로만 바꿨고 시드도 하나이므로, "몇 배 큰
# 학습률까지 견뎠다"는 줄은 격자 한 칸 단위의 대략적인 비교입니다. 두 모델이 견디는 학습률의 실제 비는
# 격자 사이 어딘가에 있습니다.
#
# 큰 학습률에서 무슨 일이 일어나는지, 그리고 왜 배치 정규화가 있을 때 더 큰 학습률을 견디는지에는 여러
# 설명이 있습니다. [BN은 왜 효과가 있을까](10_why_it_works.py)와
# [여러 설명을 실험으로](11_competing_explanations.py)에서 그 설명들을 하나씩 재 봅니다.

# %% [markdown]
# ## 초기화 크기: 가중치가 너무 작거나 클 때
#
# 이번에는 학습률을 0.1로 두고, PyTorch 기본 초기화로 만든 가중치에 0.1부터 10까지의 배율을 곱해
# 시작합니다. 배치 정규화가 없으면 층을 지날 때마다 신호가 배율만큼 줄거나 커집니다. 배치
# 정규화가 있으면 그 바로 앞 `Linear`의 배율 $a$는 배치 정규화의 출력에 아무 영향을 주지 않습니다.
# 평균과 표준편차도 함께 $a$배가 되어 나눗셈에서 지워지기 때문입니다. (마지막 `Linear` 뒤에는 배치
# 정규화가 없으므로, 두 모델 모두에서 그 층의 가중치 배율은 출력에 그대로 드러납니다.)
#
# $$\operatorname{BN}(a W x) = \operatorname{BN}(W x) \qquad (a > 0)$$
#
# 그런데 이 성질 때문에 기울기는 거꾸로 $1/a$배가 됩니다. 가중치는 $a$배 큰데 기울기는 $1/a$배이니,
# 같은 학습률에서 가중치가 **상대적으로** 움직이는 폭은 $1/a^2$배입니다. 그래서 배치 정규화 바로 앞
# 가중치에는 학습률 $\eta$ 대신 유효 학습률(effective learning rate) $\eta / \lVert w \rVert^2$이 실제
# 걸음의 크기를 정합니다($w$는 뉴런 하나로 가는 가중치 행). 표에 1층 가중치의 처음 유효 학습률을 함께
# 적습니다(`bnref.course.probes.effective_lr`, 뉴런들의 $\lVert w \rVert^2$ 평균으로 나눈 값).
# 2에폭과 5에폭 뒤의 정확도를 봅니다.

# %%
INIT_SCALES = [0.1, 0.3, 1.0, 3.0, 10.0]

init_results, init_eff_lr = {}, {}
for name, norm in [("BN 없음", None), ("BN 있음", "bn")]:
    for scale in INIT_SCALES:
        model = mlp(norm, init_scale=scale)
        if norm == "bn":
            init_eff_lr[scale] = effective_lr(weights_feeding_bn(model)[0], lr=0.1)  # 학습 전에 잽니다
        init_results[name, scale] = train(model, data, epochs=SWEEP_EPOCHS, lr=0.1, batch_size=BATCH)

headers = ["가중치 배율"]
for name in ["BN 없음", "BN 있음"]:
    headers += [f"{name}: 2에폭", f"{name}: {SWEEP_EPOCHS}에폭"]
rows = []
for scale in INIT_SCALES:
    row = [f"{scale:g}"]
    for name in ["BN 없음", "BN 있음"]:
        h = init_results[name, scale]
        row += [cell(None if h.diverged else h.test_acc[2]), cell(final_accuracy(h))]
    rows.append(row + [fmt(init_eff_lr[scale], 4)])
display(Markdown(markdown_table(headers + ["BN 있음: 처음 유효 학습률 (1층)"], rows)))

for name in ["BN 없음", "BN 있음"]:
    good = [s for s in INIT_SCALES if (final_accuracy(init_results[name, s]) or 0) >= THRESHOLD]
    print(f"{name}: {SWEEP_EPOCHS}에폭 뒤 정확도 {THRESHOLD} 이상인 배율 =",
          ", ".join(f"{s:g}" for s in good) or "없음")

largest = INIT_SCALES[-1]
with_bn, without_bn = (final_accuracy(init_results[name, largest]) for name in ["BN 있음", "BN 없음"])
relation = "낮았습니다" if with_bn < without_bn else "높았습니다" if with_bn > without_bn else "같았습니다"
print(f"배율 {largest:g}에서 {SWEEP_EPOCHS}에폭 정확도는 BN 있음({fmt(with_bn, 3)})이 "
      f"BN 없음({fmt(without_bn, 3)})보다 {relation}.")
slow = [init_results["BN 있음", s].test_acc[2] for s in INIT_SCALES]
falling = all(a > b for a, b in zip(slow[2:], slow[3:]))
print(f"BN 있음의 2에폭 정확도({', '.join(fmt(a, 3) for a in slow[2:])})는 배율 1부터 배율이 커질수록",
      "낮아졌습니다." if falling else "낮아지지만은 않았습니다.")
print(f"BN 있음의 처음 유효 학습률: 배율 1에서 {fmt(init_eff_lr[1.0], 4)}, 배율 {largest:g}에서 "
      f"{fmt(init_eff_lr[largest], 4)}")

# %% [markdown]
# 배치 정규화가 없는 모델에서는 배율이 작으면 신호가 층을 지날 때마다 줄어들고, 크면 커집니다. 위의
# "BN 없음" 두 열이 그 결과입니다. 배율 1보다 3이 나았던 것은 PyTorch의 기본 초기화가 ReLU 망에서 신호를
# 층마다 조금씩 줄이는 크기이기 때문일 수 있습니다. 신호의 크기를 유지하는 He 초기화는 기본 초기화의
# $\sqrt{6}$배입니다([여러 설명을 실험으로](11_competing_explanations.py)).
#
# 배치 정규화가 있는 모델은 은닉층의 출력이 배율과 무관한데도 학습 속도가 배율에 따라 달랐습니다. 배율
# 10에서 두 모델을 비교한 결과는 위에서 출력한 줄입니다(시드 하나의 결과입니다). 가중치가 $a$배 크면 처음
# 유효 학습률이 $1/a^2$배이므로, 배율 10은 같은 학습률 0.1에서 100분의 1 크기의 걸음으로 출발합니다.
# 이것이 느린 출발의 가장 직접적인 후보입니다. 다만 이 실험은 마지막 `Linear`도 같은 배율로 키웠으므로,
# 배율 10에서는 마지막 층의 출력도 처음부터 훨씬 큽니다. 이 실험만으로는 두 까닭을 가를 수 없습니다. 배치
# 정규화는 신호의 크기 문제를 없애 주지만, 가중치의 크기는 유효 학습률을 통해 여전히 학습에 영향을 줍니다.
# 학습하는 동안 유효 학습률이 어떻게 바뀌는지는 [여러 설명을 실험으로](11_competing_explanations.py)에서
# 따라가 봅니다.

# %% [markdown]
# ## 원 논문의 그림 1 다시 그리기
#
# Ioffe와 Szegedy(2015)의 그림 1은 MNIST로 학습하는 동안 시그모이드(sigmoid) 뉴런 하나가 받는 입력의
# 분포가 어떻게 변하는지를 15, 50, 85번째 백분위수(percentile)로 보여 줍니다. 배치 정규화가 없으면
# 분포가 학습 내내 움직이고, 있으면 안정된다는 그림입니다. 논문은 이것을 내부 공변량 변화(internal
# covariate shift)의 예로 들었습니다.
#
# 같은 실험을 작게 다시 합니다. 뉴런 64개짜리 시그모이드 은닉층 세 개를 쌓은 다층 퍼셉트론을
# 15에폭(150스텝) 학습하면서, 5스텝마다 마지막 은닉층 0번 뉴런의 입력(배치 정규화가 있으면 배치
# 정규화의 출력, 곧 시그모이드에 들어가는 값)을 테스트 데이터 전체에 대해 구합니다. 학습은 SGD 모멘텀(SGD
# momentum, 지난 스텝들의 기울기를 누적해 움직이는 방향에 관성을 주는 것)을 0.9로 준 SGD로 합니다.
# 배치 정규화 층의 모멘텀과는 다른 개념입니다.

# %%
PERCENTILES = torch.tensor([0.15, 0.50, 0.85], dtype=torch.float64)
PROBE_EVERY, UNIT = 5, 0


def figure1_run(norm):
    """시그모이드 망을 학습하며 (스텝, 테스트 정확도, 뉴런 입력의 백분위수 3개)를 기록합니다."""
    model = mlp(norm, depth=3, activation="sigmoid")
    last_sigmoid = max(i for i, m in enumerate(model) if isinstance(m, torch.nn.Sigmoid))
    steps, accuracy, percentiles = [], [], []

    def probe(step, model):
        if step % PROBE_EVERY:
            return
        model.eval()  # 테스트 데이터로 재는 동안은 평가 모드 (이동 통계를 건드리지 않음)
        with torch.no_grad():
            z = model[:last_sigmoid](data.x_test)[:, UNIT]  # 시그모이드에 들어가는 값
            correct = (model(data.x_test).argmax(1) == data.y_test).double().mean()
        model.train()
        steps.append(step)
        accuracy.append(correct.item())
        percentiles.append(torch.quantile(z, PERCENTILES).tolist())

    train(model, data, epochs=15, lr=0.3, momentum=0.9, batch_size=BATCH, on_step=probe)
    return steps, accuracy, torch.tensor(percentiles)  # (기록 횟수, 3)


figure1 = {"BN 없음": figure1_run(None), "BN 있음": figure1_run("bn")}

fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
for name, (steps, accuracy, _) in figure1.items():
    axes[0].plot(steps, accuracy, label=name)
axes[0].set_title("(a) 테스트 정확도")
axes[0].set_ylabel("정확도")
axes[0].legend()
for ax, (name, (steps, _, q)) in zip(axes[1:], figure1.items()):
    for j, p in enumerate(["15", "50", "85"]):
        ax.plot(steps, q[:, j], color="C0", linewidth=2 if p == "50" else 1, label=f"{p}번째 백분위수")
    ax.set_title(f"({'b' if name == 'BN 없음' else 'c'}) {name}: 시그모이드 입력")
    ax.legend(fontsize=7)
for ax in axes:
    ax.set_xlabel("스텝")
fig.suptitle("Ioffe & Szegedy(2015) 그림 1 다시 그리기")
fig.tight_layout()
plt.show()

# %% [markdown]
# 그림을 숫자로도 확인합니다. 처음 기록과 마지막 기록의 백분위수, 그리고 **학습 후반**(마지막 절반의
# 기록)에 중앙값(50번째 백분위수)이 오르내린 폭(최댓값 − 최솟값)입니다. 분포가 자리를 잡았다면
# 후반의 폭이 작습니다.

# %%
rows = []
for name, (steps, accuracy, q) in figure1.items():
    late_median = q[len(q) // 2:, 1]
    rows.append([name, f"{steps[0]}", fmt(q[0], 2), fmt(q[-1], 2),
                 fmt(late_median.max() - late_median.min(), 2), fmt(accuracy[-1], 3)])
display(Markdown(markdown_table(
    ["모델", "첫 기록 스텝", "처음 (15, 50, 85)", "끝 (15, 50, 85)", "후반 중앙값 변화 폭", "끝 정확도"],
    rows)))

spread = {name: (q[len(q) // 2:, 1].max() - q[len(q) // 2:, 1].min()).item()
          for name, (_, _, q) in figure1.items()}
calmer = min(spread, key=spread.get)
print(f"학습 후반에 중앙값이 덜 움직인 쪽: {calmer} "
      f"({fmt(spread[calmer], 2)} 대 {fmt(max(spread.values()), 2)})")
print("논문의 그림 1과", "같은" if calmer == "BN 있음" else "다른", "방향입니다.")

# %% [markdown]
# 논문의 주장대로라면 배치 정규화가 있는 쪽의 분포가 더 안정되어야 합니다. 위의 마지막 두 줄이 그 비교의
# 결과입니다. 다만 이 그림은 분포가 안정되는 것과 학습이 빨라지는 것이 **함께** 일어난다는 것을 보여 줄
# 뿐, 앞의 것이 뒤의 것의 원인이라는 증거는 아닙니다. 이 재현에서는 두 가지를 더 감안해야 합니다.
# 첫째, 배치 정규화가 없는 쪽은 그림의 (a) 칸과 끝 정확도가 보여 주듯 학습이 늦게 시작되어 후반에도 한창
# 학습 중이었습니다. 후반에 분포가 많이 움직인 것은 학습이 진행된 결과이기도 합니다. 둘째, 배치 정규화가
# 있는 쪽에서 잰 값은 배치 정규화의 출력이라 평균은 거의 β, 표준편차는 거의 γ로 정해지므로, 안정되어 보이는 것은
# 어느 정도 정의에서 나옵니다. 시드도 하나입니다. [BN은 왜 효과가 있을까](10_why_it_works.py)에서는
# 분포의 안정과 학습 속도를 떼어 놓는 실험을 합니다.

# %% [markdown]
# ## 정리
#
# - 같은 모델, 같은 학습률에서 배치 정규화가 있는 모델과 없는 모델의 학습 곡선을 비교했습니다.
# - 학습된 γ, β를 정규화를 되돌리는 값 $\sqrt{\operatorname{Var}[x] + \epsilon}$, $\operatorname{E}[x]$(모집단
#   통계)와 비교하고, 이동 통계를 학습 데이터와 테스트 데이터의 통계와 비교했습니다. 고정된 γ, β로 되돌릴
#   수 있는 것은 모집단 통계로 한 정규화뿐입니다.
# - 학습률과 초기화 배율을 바꿔 가며, 각 모델이 정확도 0.9에 닿는 범위를 쟀습니다. 정확도가 0.1 근처인
#   칸에서는 죽은 ReLU의 비율을 쟀습니다.
# - 배치 정규화 바로 앞 층의 가중치 배율은 출력에 영향을 주지 않지만, 그 가중치의 기울기는 $1/a$배,
#   유효 학습률은 $1/a^2$배가 됩니다.
# - 원 논문의 그림 1처럼 시그모이드 입력의 분포를 따라가 보았습니다.
#
# 용어는 [용어집](../glossary.md)에 정리해 두었습니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 학습률 실험에서 `batch_size=BATCH`를 `batch_size=None`(학습 데이터 전체가 한 미니배치)으로
# 바꾸면 같은 5에폭 동안 스텝 수는 어떻게 될까요? 정확도는 어떻게 달라질 것 같나요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 한 에폭이 한 스텝이 되므로 5스텝뿐입니다(미니배치 크기가 128일 때는 50스텝). 같은 학습률이면 파라미터가
# 움직인 횟수가 열 배 적으므로 정확도는 대개 훨씬 낮습니다. 스텝 수를 맞춰 비교하려면 에폭을 늘려야
# 합니다. 직접 바꿔 실행해 확인해 보세요.
#
# </details>
#
# **2.** 배치 정규화가 있을 때 $\operatorname{BN}(aWx) = \operatorname{BN}(Wx)$라면, 손실 $L$의 $W$에 대한
# 기울기가 $1/a$배가 되는 이유는 무엇일까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# $f(W) = L(\operatorname{BN}(Wx))$라고 하면 모든 $a > 0$에 대해 $f(aW) = f(W)$입니다. 양변을 $W$로
# 미분하면 $a \, \nabla f(aW) = \nabla f(W)$, 곧 $\nabla f(aW) = \nabla f(W) / a$입니다. 가중치를
# $a$배 키우면 기울기는 $1/a$배가 됩니다. 엄밀히는 엡실론 ε 때문에 근사이고, $a$가 아주 작아 분산이 ε에
# 견줄 만해지면 눈에 띄게 어긋납니다.
#
# </details>
#
# **3.** 그림 1 실험에서 뉴런 하나의 입력 분포를 잴 때 왜 모델을 평가 모드로 바꿨을까요? 학습 모드로
# 재면 무엇이 달라질까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 학습 모드로 테스트 데이터를 넣으면 배치 정규화가 테스트 데이터 450장의 배치 통계로 정규화하고, 이동
# 통계까지 테스트 데이터로 갱신해 버립니다. 그러면 학습에 테스트 데이터가 섞여 들어갑니다. 평가
# 모드에서는 학습 중에 쌓은 이동 통계로 정규화하므로 모델을 바꾸지 않고 잴 수 있습니다.
#
# </details>
#
# **4.** "BN은 무엇을 배웠나"의 되돌리기 실험에서, 학습 모드의 차이까지 0이 되려면 γ와 β가 어떤 값이어야
# 할까요? 고정된 파라미터로 그렇게 할 수 있을까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 학습 모드는 지금 들어온 미니배치의 통계로 정규화하므로, γ가 그 미니배치의 $\sqrt{\sigma_\mathcal{B}^2 + \epsilon}$,
# β가 그 미니배치의 $\mu_\mathcal{B}$와 같아야 합니다. 그런데 이 값은 어떤 샘플이 함께 묶였는지에 따라
# 미니배치마다 다르고, γ와 β는 한 스텝 안에서 모든 샘플에 같은 값입니다. 그래서 고정된 파라미터로는 배치
# 통계를 되돌릴 수 없고, 고정된 목표가 될 수 있는 것은 모집단 통계 $\operatorname{E}[x]$,
# $\operatorname{Var}[x]$뿐입니다. Ioffe와 Szegedy가 "되돌리기"를 모집단 통계로 쓴 까닭입니다.
#
# </details>
