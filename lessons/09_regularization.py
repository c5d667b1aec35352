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
# # 규제 효과와 배치 크기
#
# 배치 정규화(batch normalization, BN)는 학습 모드(training mode)에서 미니배치(mini-batch)의 평균과
# 분산으로 정규화합니다. 같은 샘플이라도 어떤 샘플들과 함께 묶이느냐에 따라 조금씩 다르게 정규화되므로,
# 학습 중의 BN에는 잡음이 섞여 있습니다. 원 논문(Ioffe & Szegedy, 2015)은 이 잡음 덕분에 BN이
# 규제(regularization) 효과를 내고, 경우에 따라 드롭아웃(dropout)이 필요 없어진다고 썼습니다. d2l(Dive into
# Deep Learning) 8.5절은 여기서 더 나아가, 이 잡음 때문에 BN이 50~100 정도의 중간 크기 미니배치에서 가장
# 잘 작동한다는 설명을 소개합니다.
#
# 이 강의는 그 주장들을 손글씨 숫자 데이터로 잽니다.
#
# 1. BN이 있으면 학습 데이터(training set)와 테스트 데이터(test set)의 정확도(accuracy) 차이, 곧 일반화
#    간격(generalization gap)이 줄어드는가
# 2. 배치 크기(batch size)를 바꾸면 그 간격이 어떻게 바뀌는가, 가장 좋은 배치 크기가 있는가
# 3. 정말 배치 통계의 **잡음** 때문인가: 고스트 배치 정규화(ghost batch normalization)로 잡음만 바꿔 보기
# 4. 드롭아웃과 BN을 함께 쓰면 어떤가
#
# 결론은 이 페이지가 잰 숫자에서만 끌어냅니다. 용어는 [용어집](../glossary.md)에, 인용한 자료는 [참고
# 문헌](../references.md)에 있습니다.

# %%
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

import bnref
from bnref.course.experiments import Digits, evaluate, load_digits, mlp, train
from bnref.course.ghost import GhostBatchNorm1d
from bnref.course.printing import fmt, markdown_table
from bnref.course.viz import use_korean_font
from bnref.fuse import recalibrate_bn

use_korean_font()
# 모델이 작아서 스레드를 여럿 쓰면 나눠 주고 기다리는 비용이 계산보다 큽니다. 스레드 하나로 돌립니다.
torch.set_num_threads(1)

# %% [markdown]
# ## 고스트 배치 정규화
#
# 배치 크기를 바꾸면 두 가지가 함께 바뀝니다. 기울기(gradient)를 평균 내는 샘플 수, 그리고 BN이 통계를
# 내는 샘플 수입니다. 둘 중 BN의 잡음만 따로 바꾸려면 Hoffer, Hubara, Soudry(2017)의 **고스트 배치
# 정규화**를 씁니다. 미니배치 하나로 기울기를 계산하되, BN의 통계는 미니배치를 `virtual_batch_size`개씩
# 자른 **가상 배치**(ghost batch)마다 따로 냅니다. 샘플 512개짜리 미니배치를 8개씩 나누면 기울기는 512개의
# 평균이고, 정규화의 잡음은 배치 크기 8일 때와 같습니다.
#
# `bnref.course.ghost.GhostBatchNorm1d`가 이 층입니다. 규칙은 "가상 배치마다 `bnref.BatchNorm1d`를 차례로
# 부른 것과 같다"는 한 문장입니다. 이동 통계(running statistics)도 가상 배치마다 한 번씩 갱신되고, 평가
# 모드(evaluation mode)에서는 입력을 나누지 않고 이동 통계로 정규화하므로 BN과 똑같습니다. 샘플 32개를
# 8개씩 나눠 확인합니다.

# %%
full = load_digits()
x = full.x_train[:32]
ghost = GhostBatchNorm1d(64, virtual_batch_size=8, dtype=torch.float64)
per_chunk = bnref.BatchNorm1d(64, dtype=torch.float64)  # 가상 배치마다 부를 BN
whole = bnref.BatchNorm1d(64, dtype=torch.float64)  # 32개 전체로 정규화하는 BN

with torch.no_grad():
    y_ghost = ghost(x)
    y_chunks = torch.cat([per_chunk(chunk) for chunk in x.split(8)])
    y_whole = whole(x)
print("가상 배치마다 BN을 부른 것과 같은가:", torch.allclose(y_ghost, y_chunks),
      "| 이동 평균도:", torch.allclose(ghost.running_mean, per_chunk.running_mean),
      "| 이동 분산도:", torch.allclose(ghost.running_var, per_chunk.running_var))
print("num_batches_tracked:", ghost.num_batches_tracked.item(), "(가상 배치 4개)")
print("32개 전체로 정규화한 BN과의 차이 (RMS):", fmt((y_ghost - y_whole).pow(2).mean().sqrt()))
ghost.eval(), whole.eval()
whole.load_state_dict(ghost.state_dict())  # 파라미터와 버퍼의 이름이 같아서 주고받을 수 있습니다
print("평가 모드에서 BN과 같은가:", torch.equal(ghost(x), whole(x)))

# %% [markdown]
# 마지막에서 두 번째 줄이 잡음의 크기입니다. 같은 샘플이 8개짜리 가상 배치의 통계로 정규화되면, 32개
# 전체의 통계로 정규화될 때와 이만큼 다릅니다. 배치 크기에 따라 배치 통계가 얼마나 흔들리는지는
# [작은 배치와 대안들](12_small_batches.py)에서 자세히 쟀습니다.

# %% [markdown]
# ## 실험 설계
#
# 규제 효과는 과적합(overfitting)이 있어야 보입니다. 과적합이 잘 드러나도록 학습 데이터를 1,347장 가운데
# 앞의 512장으로 줄입니다(분할할 때 이미 섞었으므로 무작위로 고른 512장입니다). 테스트 데이터는 그대로
# 450장입니다. 모델은 뉴런(neuron) 64개짜리 은닉층(hidden layer) 하나로 된 다층 퍼셉트론(multilayer
# perceptron, MLP)이고, 한 실험이 몇 초 안에 끝나도록 작게 잡았습니다.
#
# 배치 크기는 8, 32, 128, 512(학습 데이터 전체)이고, 모두 같은 에폭(epoch) 수만큼 학습합니다. 에폭을
# 맞추면 큰 배치는 스텝 수가 적으므로, 학습률(learning rate)을 배치 크기에 비례해 키웁니다. 선형 스케일링
# 규칙(linear scaling rule, Goyal 등 2017)입니다. 그러면 모든 배치 크기에서 "스텝 수 × 학습률"이 같습니다.
# 확률적 경사 하강법(stochastic gradient descent, SGD)의 기울기 잡음의 크기(noise scale)는 학습률 $\eta$, 배치 크기 $B$,
# 학습 데이터 수 $N$으로 $\eta\,(N/B - 1)$입니다(Smith & Le, 2018). $B$가 $N$보다 훨씬 작으면 이것은
# $\eta N / B$와 거의 같아서, "학습률 ÷ 배치 크기"를 맞춘 이 설계에서는 기울기 잡음도 거의 같습니다. 다만
# $B$가 $N$에 가까우면 잡음이 줄어듭니다. 배치 512는 학습 데이터 전체라서 기울기에 잡음이 전혀 없고, BN도
# 스텝마다 같은 샘플 512개로 통계를 내므로 배치 통계에도 잡음이 없습니다.
#
# 그러니 배치 크기에 따라 달라지는 것은 BN 통계의 잡음과, 큰 배치 쪽에서 줄어드는 기울기 잡음입니다. 뒤의
# 것이 결과를 바꾸는지는 BN이 없는 모델이 알려 줍니다. 배치 크기를 바꿔도 BN이 없는 모델의 결과가 거의
# 같다면, BN이 있는 모델에서 배치 크기에 따라 달라진 것은 BN 통계의 잡음 탓으로 볼 수 있습니다.
#
# 학습이 끝나면 이동 통계를 학습 데이터 전체로 다시 잽니다(`bnref.fuse.recalibrate_bn`, [추론 단계의
# BN](16_inference.py)). 배치 512는 학습 동안 이동 통계를 에폭 수만큼만 갱신하므로 처음 값(평균 0,
# 분산 1)이 아직 남아 있는데, 그 차이가 배치 크기의 효과로 잘못 읽히지 않게 하려는 것입니다. 그다음 평가
# 모드로 학습 데이터와 테스트 데이터의 정확도를 재고, 그 차이(학습 − 테스트)를 **일반화 간격**이라고
# 부릅니다. 시드마다 가중치 초기화와 미니배치 순서가 바뀝니다.

# %%
N_TRAIN, EPOCHS, SEEDS = 512, 8, 3
BATCH_SIZES = [8, 32, 128, 512]
LR_PER_SAMPLE = 0.02 / 8  # 학습률 = 0.0025 × 배치 크기: 8 → 0.02, 512 → 1.28
VIRTUAL = 8  # 고스트 배치 정규화의 가상 배치 크기
DROPOUT = 0.2

data = Digits(full.x_train[:N_TRAIN], full.y_train[:N_TRAIN], full.x_test, full.y_test)
counts = torch.bincount(data.y_train, minlength=10)
print(f"학습 데이터 {len(data.y_train)}장 (숫자마다 {counts.min().item()}~{counts.max().item()}장), "
      f"테스트 데이터 {len(data.y_test)}장")

# 이름: (mlp 인자, 이 모델을 재는 배치 크기). 고스트 BN과 드롭아웃은 시간을 아끼려고 배치 크기 두 개에서만 잽니다.
MODELS = {
    "BN 없음": ({"norm": None}, BATCH_SIZES),
    "BN": ({"norm": "bn"}, BATCH_SIZES),
    f"고스트 BN (V = {VIRTUAL})": ({"norm": "ghost_bn", "virtual_batch_size": VIRTUAL}, [128, 512]),
    "BN 없음 + 드롭아웃": ({"norm": None, "dropout": DROPOUT}, [32, 512]),
    "BN + 드롭아웃": ({"norm": "bn", "dropout": DROPOUT}, [32, 512]),
}


def run(kwargs, batch_size, seed):
    """학습하고, 이동 통계를 다시 잰 뒤 (학습 정확도, 테스트 정확도, 다시 재기 전의 테스트 정확도)를
    평가 모드로 잽니다."""
    model = mlp(depth=1, seed=seed, **kwargs)
    h = train(model, data, epochs=EPOCHS, lr=LR_PER_SAMPLE * batch_size, batch_size=batch_size, seed=seed)
    assert not h.diverged
    recalibrate_bn(model, [data.x_train])  # BN이 없으면 아무것도 하지 않음
    return evaluate(model, data.x_train, data.y_train)[1], evaluate(model, data.x_test, data.y_test)[1], h.test_acc[-1]


results = {}  # (모델, 배치 크기) → (시드, 3) 텐서: 학습 정확도, 테스트 정확도, 다시 재기 전의 테스트 정확도
for name, (kwargs, sizes) in MODELS.items():
    for b in sizes:
        results[name, b] = torch.tensor([run(kwargs, b, s) for s in range(SEEDS)], dtype=torch.float64)


def stats(name, b):
    """(학습 정확도, 테스트 정확도, 간격) 각각의 시드 평균과 표준편차."""
    r = results[name, b]
    columns = [r[:, 0], r[:, 1], r[:, 0] - r[:, 1]]
    return [(c.mean().item(), c.std().item()) for c in columns]


rows = []
for name, (_, sizes) in MODELS.items():
    for b in sizes:
        rows.append([name, str(b), f"{LR_PER_SAMPLE * b:g}",
                     *[f"{fmt(m, 3)} ± {fmt(s, 3)}" for m, s in stats(name, b)]])
print(f"칸마다 시드 {SEEDS}개의 평균 ± 표준편차, 평가 모드 (이동 통계를 다시 잰 뒤)")
display(Markdown(markdown_table(
    ["모델", "배치 크기", "학습률", "학습 정확도", "테스트 정확도", "간격 (학습 − 테스트)"], rows)))
print("BN 모델의 테스트 정확도, 이동 통계를 다시 재기 전 → 후:",
      ", ".join(f"배치 {b} {fmt(results['BN', b][:, 2].mean(), 3)} → {fmt(results['BN', b][:, 1].mean(), 3)}"
                for b in BATCH_SIZES))

# %% [markdown]
# 같은 숫자를 그림으로 봅니다. 막대는 ±1 표준편차입니다.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11.2, 3.8))
styles = ["o-", "s-", "^-", "o--", "s--"]
for i, ((name, (_, sizes)), style) in enumerate(zip(MODELS.items(), styles)):
    shifted = [b * 2 ** (0.07 * (i - 2)) for b in sizes]  # 막대가 겹치지 않게 옆으로 조금씩
    for ax, k in zip(axes, [1, 2]):
        mean = [stats(name, b)[k][0] for b in sizes]
        std = [stats(name, b)[k][1] for b in sizes]
        ax.errorbar(shifted, mean, yerr=std, fmt=style, capsize=3, label=name, alpha=0.85)
for ax, title in zip(axes, ["테스트 정확도", "일반화 간격 (학습 정확도 − 테스트 정확도)"]):
    ax.set_xscale("log", base=2)
    ax.set_xticks(BATCH_SIZES, [str(b) for b in BATCH_SIZES])
    ax.set_xlabel("배치 크기 (학습률은 배치 크기에 비례)")
    ax.set_title(title)
axes[0].set_ylabel("정확도")
axes[1].set_ylabel("간격")
axes[1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
fig.suptitle(f"학습 데이터 {N_TRAIN}장, {EPOCHS}에폭, 시드 {SEEDS}개 (막대: ±1 표준편차)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 결과 읽기
#
# 두 값의 차이를 말할 때는 시드 사이의 흔들림과 견줍니다. 아래에서 "뚜렷하다"는 것은 두 평균의 차이가
# 두 조건의 표준오차(standard error, 표준편차 ÷ √시드 수)를 합한 것의 두 배보다 크다는 뜻입니다. 시드 몇 개로 한 대략의 판단이고 통계
# 검정은 아닙니다. 네 질문마다 자세한 숫자를 먼저 찍고, 그 숫자에서 고른 결론 문장을 찍습니다.

# %%
def compare(a, b, k):
    """두 조건 a, b의 k번째 양(0: 학습 정확도, 1: 테스트 정확도, 2: 간격): (차이 a − b, 뚜렷한가)."""
    (ma, sa), (mb, sb) = stats(*a)[k], stats(*b)[k]
    return ma - mb, abs(ma - mb) > 2 * (sa + sb) / SEEDS ** 0.5


def word(diff, clear, higher, lower):
    if round(diff, 3) == 0:  # 찍히는 자릿수에서 0이면 방향을 말하지 않습니다
        return "차이 없음"
    return ("뚜렷이 " if clear else "") + (higher if diff > 0 else lower) + ("" if clear else ", 흔들림 안")


def line(label, a, b):
    acc, acc_clear = compare(a, b, 1)
    gap, gap_clear = compare(a, b, 2)
    print(f"   {label}: 테스트 정확도 {fmt(acc, 3):>6} ({word(acc, acc_clear, '높음', '낮음')}), "
          f"간격 {fmt(gap, 3):>6} ({word(gap, gap_clear, '큼', '작음')})")
    return (acc, acc_clear), (gap, gap_clear)


print("1. BN이 있을 때와 없을 때 (BN − BN 없음):")
bn_vs_none = {b: line(f"배치 {b:3d}", ("BN", b), ("BN 없음", b)) for b in BATCH_SIZES}
higher = [b for b, ((acc, clear), _) in bn_vs_none.items() if clear and acc > 0]
smaller_gap = [b for b, (_, (gap, clear)) in bn_vs_none.items() if clear and gap < 0]
train_up = all(compare(("BN", b), ("BN 없음", b), 0)[0] > 0 for b in BATCH_SIZES)
if smaller_gap:
    print(f"→ BN은 배치 {', '.join(map(str, smaller_gap))}에서 일반화 간격을 뚜렷이 줄였습니다. 규제 효과가 보입니다.")
elif higher:
    print(f"→ BN은 배치 {', '.join(map(str, higher))}에서 테스트 정확도를 뚜렷이 높였지만, 일반화 간격은 어느 배치 "
          "크기에서도 뚜렷이 줄이지 못했습니다."
          + (" BN이 있는 모델은 학습 정확도도 모든 배치 크기에서 높았습니다. 이 실험에서 BN의 이득은 과적합을 "
             "막아서라기보다 학습 데이터를 더 잘 맞혀서 생겼습니다." if train_up else ""))
else:
    print("→ BN은 테스트 정확도도 일반화 간격도 뚜렷이 바꾸지 못했습니다.")

print("2. 배치 크기에 따른 BN 모델의 테스트 정확도:")
best = max(BATCH_SIZES, key=lambda b: stats("BN", b)[1][0])
others = [b for b in BATCH_SIZES if b != best]
clearly_better = [b for b in others if compare(("BN", best), ("BN", b), 1)[1]]
print(f"   가장 높은 배치 크기: {best} ({fmt(stats('BN', best)[1][0], 3)})")
control = [stats("BN 없음", b)[1][0] for b in BATCH_SIZES]
bn_spread = max(stats("BN", b)[1][1] for b in BATCH_SIZES)
print(f"   대조군(BN 없음)의 테스트 정확도는 배치 크기에 따라 {fmt(max(control) - min(control), 3)} 안에서 움직였고, "
      f"이는 BN 모델의 시드 사이 표준편차(가장 큰 것 {fmt(bn_spread, 3)})보다 "
      f"{'작습니다' if max(control) - min(control) < bn_spread else '작지 않습니다'}.")
if not clearly_better:
    print(f"→ 배치 {best}가 다른 배치 크기보다 뚜렷이 높지는 않습니다. 이 데이터에서는 최적 배치 크기가 보이지 않습니다.")
elif len(clearly_better) == len(others):
    print(f"→ 배치 {best}가 다른 모든 배치 크기보다 뚜렷이 높습니다. 이 데이터의 최적 배치 크기는 {best} 근처입니다.")
else:
    rest = [b for b in others if b not in clearly_better]
    print(f"→ 배치 {best}는 배치 {', '.join(map(str, clearly_better))}보다 뚜렷이 높고, "
          f"배치 {', '.join(map(str, rest))}와는 흔들림 안입니다.")

big, ghost_name = BATCH_SIZES[-1], f"고스트 BN (V = {VIRTUAL})"
print(f"3. 배치 {big}에서 BN의 잡음만 가상 배치 {VIRTUAL} 수준으로 키웠을 때:")
(g_acc, g_acc_clear), (g_gap, g_gap_clear) = line(f"고스트 BN − BN (배치 {big})", (ghost_name, big), ("BN", big))
line(f"고스트 BN (배치 {big}) − BN (배치 {VIRTUAL})", (ghost_name, big), ("BN", VIRTUAL))
if g_gap_clear and g_gap < 0 and not (g_acc_clear and g_acc < 0):
    print("→ 잡음을 키우자 간격이 뚜렷이 줄었습니다. 이 실험에서 BN 통계의 잡음은 규제로 작동했습니다.")
elif g_acc_clear and g_acc < 0:
    print("→ 잡음을 키우자 테스트 정확도가 뚜렷이 낮아졌습니다. 이 실험에서 BN 통계의 잡음은 규제로 돕기보다 "
          "학습을 방해했습니다.")
else:
    print("→ 잡음을 키워도 테스트 정확도와 간격이 뚜렷이 바뀌지 않았습니다. 이 실험에서는 BN 통계의 잡음이 "
          "규제로 작동했다는 증거가 없습니다.")

print(f"4. 드롭아웃 (p = {DROPOUT})을 더했을 때 (드롭아웃 있음 − 없음):")
dropout_effects = []
for base in ["BN 없음", "BN"]:
    for b in MODELS[f"{base} + 드롭아웃"][1]:
        dropout_effects.append(line(f"{base}, 배치 {b:3d}", (f"{base} + 드롭아웃", b), (base, b)))
changed = sum(acc_clear or gap_clear for (_, acc_clear), (_, gap_clear) in dropout_effects)
print(f"→ {len(dropout_effects)}개 조건 가운데 드롭아웃이 테스트 정확도나 간격을 뚜렷이 바꾼 조건은 {changed}개입니다.")

# %% [markdown]
# ## 무엇을 말할 수 있나
#
# 화살표(→)로 시작하는 줄들이 이 실험의 결론입니다. 그 문장들을 읽을 때 기억할 것이 있습니다.
#
# - **간격은 학습 정확도와 함께 읽습니다.** 간격이 작은 것은 테스트 정확도가 높아서일 수도 있고 학습
#   데이터를 덜 맞혀서일 수도 있습니다. 그래서 표에 학습 정확도를 함께 적었습니다. 규제 효과란 같은 만큼
#   학습 데이터를 맞히면서 테스트 데이터를 더 잘 맞히는 것입니다. 이 실험에서 BN이 있는 모델의 간격은
#   오히려 조금 컸는데(1번의 줄들), 테스트 정확도보다 학습 정확도가 더 많이 올랐기 때문입니다.
# - **대조군이 평평해야 배치 크기의 효과를 BN 탓으로 돌릴 수 있습니다.** 2번의 대조군 문장이 그 확인입니다.
# - **고스트 BN은 잡음 말고는 거의 모두 고정합니다.** 같은 미니배치, 같은 학습률, 같은 스텝 수에서 BN이
#   통계를 내는 샘플 수만 바꿉니다. 배치 512의 보통 BN은 배치 통계에 잡음이 없으므로, 3번의 첫 줄은 "잡음
#   없음"과 "가상 배치 8의 잡음"을 견준 것입니다. 다만 가상 배치 8의 통계는 잡음과 함께 편향도 갖습니다.
#   편향 분산(n으로 나눈 분산)의 기댓값은 모집단(population) 분산의 $(n-1)/n$배라서 8개로 낸 분산은
#   평균적으로 $1/8$만큼 작습니다. 평가 때는 다시 잰 이동 통계로 정규화하므로, 학습 때와 평가 때의 정규화가
#   그만큼 어긋납니다. 배치 8의 보통 BN도 사정이 같으므로, 3번의 둘째 줄은 이 어긋남이 같은 두 모델을
#   견줍니다. 두 모델은 기울기를 평균 내는 샘플 수(512와 8)와 학습률이 다릅니다.
# - **드롭아웃의 자리.** 은닉층이 하나뿐이라 드롭아웃은 BN 뒤에만 있습니다. 드롭아웃을 BN 앞에 두면 학습
#   때와 평가 때 BN이 보는 분산이 달라지는 문제가 알려져 있습니다(Li 등, 2019).
#
# 이 측정의 범위도 분명합니다. 데이터는 8×8 숫자 512장, 모델은 은닉층 하나, 학습은 8에폭, 시드는 3개입니다.
# "뚜렷하지 않다"는 "효과가 없다"가 아니라 이 측정으로는 가릴 수 없다는 뜻이고, 시드가 3개뿐이라 가려낼
# 수 있는 차이의 문턱이 높습니다. 예를 들어 3번의 첫 줄에서 고스트 BN과 BN의 테스트 정확도 차이는 1번에서
# 본 BN의 이득의 절반쯤인데도 흔들림 안입니다.
# d2l이 소개하는 "50~100의 최적 배치 크기"나, Hoffer 등이 큰 배치의 일반화 간격을 고스트 BN과 더 긴 학습으로
# 줄인 결과는 주로 CIFAR와 ImageNet의 훨씬 큰 합성곱 신경망에서 나온 것이고, 이 페이지의 숫자가 그것을
# 반박하지는 않습니다. 이 페이지가 보여 주는 것은 "BN의 잡음은 언제나 규제로 작동한다"고 가정하지 말고 자기 모델에서 재
# 봐야 한다는 것, 그리고 재는 방법입니다. 일반화 간격은 학습 정확도와 함께 보고, 배치 크기를 바꿀 때는 BN
# 없는 대조군을 함께 돌리고, 잡음의 효과는 고스트 BN처럼 다른 것을 고정한 채 잡음만 바꿔 봅니다.
#
# 다음 강의 [BN은 왜 효과가 있을까](10_why_it_works.py)에서는 BN이 학습 자체를 어떻게 바꾸는지 잽니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 가상 배치 크기가 `virtual_batch_size`인 고스트 BN에 배치 크기 N이 들어오면, 학습 모드의
# forward 한 번에 이동 통계는 몇 번 갱신될까요? `momentum=0.1`일 때 처음 값의 비중은 얼마나 남을까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 가상 배치 수 $k = \lceil N / V \rceil$번 갱신됩니다(마지막 가상 배치는 더 작을 수 있음). 처음 값의
# 비중은 $(1 - 0.1)^k = 0.9^k$입니다. 예를 들어 $N = 512$, $V = 8$이면 $k = 64$이고 $0.9^{64} \approx
# 0.001$이라, forward 한 번 만에 처음 값은 거의 지워지고 이동 통계는 이번 미니배치의 가상 배치 통계들로
# 채워집니다. 그중에서도 나중에 온 가상 배치일수록 비중이 크고, 마지막 열 개 남짓이 절반 넘게 차지합니다.
# 보통의 BN이라면 한 번에 10%만 움직입니다.
#
# </details>
#
# **2.** 이 강의의 실험에서 이동 통계를 다시 재지 않으면 배치 크기 512의 BN 모델은 어떻게 될까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 배치 512는 학습 데이터 전체라 한 에폭이 한 스텝이고, 8에폭이면 이동 통계가 8번만 갱신됩니다. 처음 값
# (평균 0, 분산 1)의 비중이 $0.9^8 \approx 0.43$이나 남아서, 평가 모드의 정규화가 학습 때의 정규화와
# 다릅니다. 표 아래의 "다시 재기 전 → 후" 줄이 이 실험에서 그 차이가 테스트 정확도를 얼마나 바꿨는지
# 보여 줍니다. 이 작은 모델에서는 거의 바뀌지 않았지만, 모델과 데이터에 따라 차이가 클 수 있습니다. 그런
# 차이는 "큰 배치는 일반화가 나쁘다"로 잘못 읽기 쉬우므로, 배치 크기를 비교할 때는 이동 통계를 같은
# 방법으로 다시 재고 비교하는 편이 안전합니다.
#
# </details>
#
# **3.** 학습률을 배치 크기에 비례해 키우지 않고 모든 배치 크기에서 0.1로 두면, 에폭을 맞춘 비교가 어떻게
# 달라질까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 배치 512는 8에폭 동안 8스텝, 배치 8은 512스텝을 같은 학습률로 움직입니다. 큰 배치는 훨씬 덜 학습된
# 채로 비교되므로, 큰 배치의 정확도가 낮더라도 규제가 없어서인지 덜 학습되어서인지 가릴 수 없습니다. 배치 크기의 효과와
# 학습량의 효과가 섞이는 것이 에폭을 맞춘 비교의 함정이고, Hoffer 등(2017)이 "더 오래 학습하라"고 한
# 까닭이기도 합니다.
#
# </details>
#
# **4.** 고스트 BN의 가상 배치 크기를 2로 하면 어떻게 될까요? 그런 층은 무엇을 학습할 수 있을까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 값이 두 개뿐인 가상 배치는 정규화하면 언제나 −1과 +1이 됩니다([작은 배치와 대안들](12_small_batches.py)).
# 크기 정보가 모두 사라지고 두 샘플 가운데 어느 쪽이 큰지만 남으므로, 다음 층이 받는 신호가 크게
# 거칠어집니다. 학습이 얼마나 나빠지는지 `VIRTUAL = 2`로 바꿔 확인해 보세요.
#
# </details>
