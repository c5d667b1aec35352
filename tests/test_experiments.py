"""bnref.course.experiments: 데이터 분할·정규화, 모델 구성(BN의 자리, 편향, 드롭아웃, 고스트 BN),
잡음 섞인 BN, 결정적인 학습 루프 (강의 7–10이 씀)."""

import copy
import math

import pytest
import torch
from torch import nn

import bnref
from bnref.course.experiments import NoisyBatchNorm, SeededDropout, cnn, evaluate, load_digits, mlp, train
from bnref.course.ghost import GhostBatchNorm1d, GhostBatchNorm2d


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # 작은 모델은 스레드 하나가 가장 빠릅니다 (강의 7·10과 같은 설정). 끝나면 되돌립니다.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def data():
    return load_digits()


# ---------------------------------------------------------------- data
def test_split_sizes_and_labels(data):
    assert data.x_train.shape == (1347, 64) and data.x_test.shape == (450, 64)
    assert data.y_train.dtype == torch.long
    # stratify: 클래스 비율이 두 쪽에서 거의 같습니다.
    train_share = torch.bincount(data.y_train, minlength=10) / len(data.y_train)
    test_share = torch.bincount(data.y_test, minlength=10) / len(data.y_test)
    assert (train_share - test_share).abs().max() < 0.01


def test_split_is_fixed_by_the_seed(data):
    again, other = load_digits(seed=0), load_digits(seed=1)
    assert torch.equal(again.x_train, data.x_train) and torch.equal(again.y_test, data.y_test)
    assert not torch.equal(other.y_train, data.y_train)


def test_pixels_are_normalised_with_training_statistics(data):
    varying = data.x_train.std(0) > 0  # 늘 0인 가장자리 픽셀은 0으로 남습니다
    assert torch.allclose(data.x_train.mean(0), torch.zeros(64, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(data.x_train[:, varying].std(0, correction=0),
                          torch.ones(int(varying.sum()), dtype=torch.float64))
    # 테스트 데이터는 학습 데이터의 통계로 옮겼으므로 정확히 평균 0, 분산 1이 아닙니다.
    assert data.x_test.mean(0).abs().max() > 1e-3


def test_images_view(data):
    images = data.images()
    assert images.x_train.shape == (1347, 1, 8, 8)
    assert torch.equal(images.x_train.reshape(-1, 64), data.x_train)


# ---------------------------------------------------------------- models
def test_mlp_uses_bnref_batchnorm_and_drops_the_bias_before_it():
    model = mlp("bn", depth=3)
    assert sum(isinstance(m, bnref.BatchNorm1d) for m in model) == 3
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [m.bias is None for m in linears] == [True, True, True, False]
    assert all(p.dtype == torch.float64 for p in model.parameters())


@pytest.mark.parametrize("norm, kind", [(None, type(None)), ("bn", bnref.BatchNorm1d),
                                        ("noisy_bn", NoisyBatchNorm)])
def test_mlp_layer_after_each_linear(norm, kind):
    model = mlp(norm, activation="sigmoid")
    after_linear = [model[i + 1] for i, m in enumerate(model[:-1]) if isinstance(m, nn.Linear)]
    if norm is None:
        assert all(isinstance(m, nn.Sigmoid) for m in after_linear)
    else:
        assert all(isinstance(m, kind) for m in after_linear)


@pytest.mark.parametrize("build", [mlp, cnn])
@pytest.mark.parametrize("kwargs, message", [
    ({"norm": "layer_norm"}, "norm must be None, 'bn', 'noisy_bn' or 'ghost_bn'"),
    ({"norm": "bn", "placement": "between"}, "placement must be 'before' or 'after'"),
    ({"norm": "ghost_bn"}, "virtual_batch_size is given exactly when norm='ghost_bn'"),
    ({"norm": "bn", "virtual_batch_size": 8}, "virtual_batch_size is given exactly when norm='ghost_bn'"),
])
def test_bad_options_are_refused(build, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)


def test_cnn_uses_bnref_batchnorm2d():
    model = cnn("bn")
    assert sum(isinstance(m, bnref.BatchNorm2d) for m in model) == 2
    assert model(torch.zeros(3, 1, 8, 8, dtype=torch.float64)).shape == (3, 10)


def test_seed_fixes_the_weights_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b, c = mlp(seed=4), mlp(seed=4), mlp(seed=5)
    assert torch.equal(torch.rand(3), expected)
    assert torch.equal(a[0].weight, b[0].weight) and not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize("build", [mlp, cnn])
def test_init_scale_multiplies_linear_and_conv_weights_only(build):
    base, scaled = build("bn"), build("bn", init_scale=3.0)
    for m0, m1 in zip(base.modules(), scaled.modules()):
        if isinstance(m0, (nn.Linear, nn.Conv2d)):
            assert torch.allclose(m1.weight, 3 * m0.weight)
        elif isinstance(m0, bnref.BatchNorm1d | bnref.BatchNorm2d):
            assert torch.equal(m1.weight, m0.weight) and torch.equal(m1.bias, m0.bias)


def test_batchnorm_in_the_model_normalises_each_feature(data):
    # 학습 모드에서 BN 출력은 특성마다 평균 0, 편향 분산 1 (γ = 1, β = 0으로 시작).
    model = mlp("bn").train()
    h = model[:2](data.x_train[:128])
    assert torch.allclose(h.mean(0), torch.zeros(64, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(h.var(0, correction=0), torch.ones(64, dtype=torch.float64), atol=1e-3)


# ---------------------------------------------------------------- placement, bias, dropout, ghost (강의 8·9)
def _old_mlp(norm, depth=2, seed=0):
    """이 옵션들이 생기기 전의 mlp를 그대로 옮긴 것: 기본값의 모델이 바이트 하나까지 같아야 합니다."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers, width = [], 64
        for _ in range(depth):
            layers += [nn.Linear(width, 64, bias=norm is None),
                       *([bnref.BatchNorm1d(64)] if norm else []), nn.ReLU()]
            width = 64
        return nn.Sequential(*layers, nn.Linear(width, 10)).double()


def _old_cnn(norm, seed=0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers, width = [], 1
        for c in (8, 16):
            layers += [nn.Conv2d(width, c, 3, padding=1, bias=norm is None),
                       *([bnref.BatchNorm2d(c)] if norm else []), nn.ReLU(), nn.MaxPool2d(2)]
            width = c
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * 2 * 2, 10)).double()


@pytest.mark.parametrize("norm", [None, "bn"])
@pytest.mark.parametrize("seed", [0, 3])
def test_default_models_are_exactly_the_models_before_the_new_options(norm, seed):
    for new, old in [(mlp(norm, seed=seed), _old_mlp(norm, seed=seed)),
                     (mlp(norm, seed=seed, depth=3), _old_mlp(norm, seed=seed, depth=3)),
                     (cnn(norm, seed=seed), _old_cnn(norm, seed=seed))]:
        assert [type(m) for m in new] == [type(m) for m in old]
        a, b = new.state_dict(), old.state_dict()
        assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("build, kind, layer",
                         [(mlp, bnref.BatchNorm1d, nn.Linear), (cnn, bnref.BatchNorm2d, nn.Conv2d)])
def test_placement_after_puts_bn_after_the_activation_and_keeps_the_bias(build, kind, layer):
    model = build("bn", placement="after")
    hidden = [i for i, m in enumerate(model) if isinstance(m, layer)][:2]  # 마지막 Linear는 분류 층
    for i in hidden:
        assert isinstance(model[i + 1], nn.ReLU) and isinstance(model[i + 2], kind)
        assert model[i].bias is not None and model[i].bias.dtype == torch.float64


@pytest.mark.parametrize("build", [mlp, cnn])
def test_models_with_bn_share_their_weights_across_placement_and_bias(build):
    # 같은 시드면 before/after, 편향 있음/없음이 같은 가중치에서 출발합니다 (짝지은 비교).
    variants = [build("bn", seed=2), build("bn", seed=2, placement="after"), build("bn", seed=2, bias=True)]
    weights = [[m.weight for m in v if isinstance(m, (nn.Linear, nn.Conv2d))] for v in variants]
    for other in weights[1:]:
        assert all(torch.equal(a, b) for a, b in zip(weights[0], other))
    # 편향은 시드와 층마다 다르고, torch 기본 초기화의 범위 U(−1/√fan_in, 1/√fan_in) 안에 있습니다.
    b0, b1 = [m.bias for m in variants[2] if isinstance(m, (nn.Linear, nn.Conv2d))][:2]
    assert not torch.equal(b0[:8], b1[:8])
    fan_in = variants[2][0].weight[0].numel()
    assert b0.abs().max() <= 1 / math.sqrt(fan_in) and b0.abs().max() > 0
    assert not torch.equal(b0, [m.bias for m in build("bn", seed=3, bias=True) if hasattr(m, "bias")][0])


@pytest.mark.parametrize("bias", [True, False])
def test_bias_option_overrides_the_default(bias):
    for model in (mlp(None, bias=bias), mlp("bn", bias=bias), mlp("bn", placement="after", bias=bias)):
        assert (model[0].bias is not None) == bias
        assert model[-1].bias is not None  # 마지막 층은 언제나 편향을 가집니다


def test_dropout_follows_each_hidden_block_and_changes_no_weight():
    model = mlp("bn", dropout=0.3)
    assert [type(m).__name__ for m in model] == ["Linear", "BatchNorm1d", "ReLU", "SeededDropout",
                                                 "Linear", "BatchNorm1d", "ReLU", "SeededDropout", "Linear"]
    # 드롭아웃 층은 파라미터도 난수도 쓰지 않으므로 처음 가중치는 드롭아웃 없는 모델과 같습니다.
    assert len(list(model.parameters())) == len(list(mlp("bn").parameters()))
    assert all(torch.equal(a, b) for a, b in zip(mlp("bn").parameters(), model.parameters()))
    after = mlp("bn", placement="after", dropout=0.3)
    assert [type(m).__name__ for m in after][:4] == ["Linear", "ReLU", "BatchNorm1d", "SeededDropout"]


def test_seeded_dropout_is_inverted_dropout_with_its_own_generator():
    x = torch.rand(4000, dtype=torch.float64) + 1
    drop = SeededDropout(0.25, seed=5)
    y = drop(x)
    kept = y != 0
    assert torch.allclose(y[kept], x[kept] / 0.75)
    assert abs((~kept).double().mean().item() - 0.25) < 0.03
    torch.manual_seed(0)
    assert torch.equal(SeededDropout(0.25, seed=5)(x), y)  # 전역 시드와 상관없이 seed로 정해짐
    assert not torch.equal(drop(x), y)  # 부를 때마다 새 마스크
    assert torch.equal(drop.eval()(x), x)
    assert torch.equal(SeededDropout(0.0).train()(x), x)
    with pytest.raises(ValueError, match="dropout probability has to be in"):
        SeededDropout(1.0)


def test_training_with_dropout_is_deterministic_and_dropout_is_off_in_evaluation(data):
    h1 = train(mlp("bn", dropout=0.5), data, epochs=1, lr=0.1, batch_size=256)
    h2 = train(mlp("bn", dropout=0.5), data, epochs=1, lr=0.1, batch_size=256)
    assert h1 == h2
    assert h1 != train(mlp("bn"), data, epochs=1, lr=0.1, batch_size=256)
    model = mlp("bn", dropout=0.5).eval()
    assert torch.equal(model(data.x_test[:8]), mlp("bn").eval()(data.x_test[:8]))


@pytest.mark.parametrize("build, kind", [(mlp, GhostBatchNorm1d), (cnn, GhostBatchNorm2d)])
def test_ghost_models_use_ghost_batchnorm(build, kind):
    model = build("ghost_bn", virtual_batch_size=8)
    layers = [m for m in model if isinstance(m, kind)]
    assert len(layers) == 2 and all(m.virtual_batch_size == 8 for m in layers)
    assert model[0].bias is None


def test_ghost_model_with_one_virtual_batch_trains_exactly_like_bn(data):
    # 가상 배치가 미니배치보다 크면 고스트 BN은 BN 그대로: 학습 기록이 같아야 합니다.
    ghost = train(mlp("ghost_bn", virtual_batch_size=256), data, epochs=1, lr=0.3, batch_size=256)
    assert ghost == train(mlp("bn"), data, epochs=1, lr=0.3, batch_size=256)
    noisy = train(mlp("ghost_bn", virtual_batch_size=16), data, epochs=1, lr=0.3, batch_size=256)
    assert noisy.step_loss[0] != ghost.step_loss[0]  # 가상 배치가 작으면 첫 스텝의 출력부터 다릅니다


# ---------------------------------------------------------------- noisy BN
def test_noisy_bn_is_a_random_per_channel_scale_and_shift_of_bn():
    layer = NoisyBatchNorm(bnref.BatchNorm2d(4, dtype=torch.float64), shift=1.0, scale=2.0, seed=0)
    x = torch.randn(8, 4, 3, 3, dtype=torch.float64)
    y = layer(x).detach()
    clean = torch.nn.functional.batch_norm(x, None, None, training=True)
    # y = s·BN(x) + t 이므로 채널마다 평균은 t, 표준편차는 s.
    s = y.std((0, 2, 3), correction=0) / clean.std((0, 2, 3), correction=0)
    t = y.mean((0, 2, 3))
    assert torch.allclose(y, clean * s.reshape(1, 4, 1, 1) + t.reshape(1, 4, 1, 1), atol=1e-6)
    assert ((s >= 0.5) & (s <= 2.0)).all() and (t.abs() <= 1.0).all()
    assert not torch.allclose(s, torch.ones(4, dtype=torch.float64), atol=1e-3)


def test_noisy_bn_changes_every_step_is_seeded_and_is_off_in_eval():
    x = torch.randn(16, 3, dtype=torch.float64)
    a = NoisyBatchNorm(bnref.BatchNorm1d(3, dtype=torch.float64), seed=7)
    b = NoisyBatchNorm(bnref.BatchNorm1d(3, dtype=torch.float64), seed=7)
    first, second = a(x), a(x)
    assert not torch.allclose(first, second)
    assert torch.equal(b(x), first) and torch.equal(b(x), second)
    a.eval()
    assert torch.equal(a(x), a.bn(x))


# ---------------------------------------------------------------- training
def test_training_is_deterministic_and_history_has_its_lengths(data):
    steps = []
    h1 = train(mlp("noisy_bn"), data, epochs=2, lr=0.1, batch_size=256,
               on_step=lambda step, model: steps.append(step))
    h2 = train(mlp("noisy_bn"), data, epochs=2, lr=0.1, batch_size=256)
    assert h1 == h2
    assert len(h1.step_loss) == 2 * (1347 // 256) and steps == list(range(1, 11))
    assert len(h1.train_loss) == len(h1.train_acc) == 2 and len(h1.test_acc) == 3
    assert not h1.diverged


def test_full_batch_is_one_step_per_epoch(data):
    h = train(mlp(), data, epochs=3, lr=0.1)
    assert len(h.step_loss) == 3


def test_batchnorm_model_learns(data):
    h = train(mlp("bn"), data, epochs=3, lr=0.3, batch_size=128)
    assert h.test_acc[0] < 0.3 and h.test_acc[-1] > 0.9
    assert h.step_loss[-1] < h.step_loss[0]


def test_divergence_stops_training(data):
    h = train(mlp(None, init_scale=10.0), data, epochs=5, lr=1e8, batch_size=128)
    assert h.diverged and len(h.step_loss) < 50
    assert all(math.isfinite(v) for v in h.step_loss)


def test_training_with_bnref_matches_training_with_torch_batchnorm(data):
    # 같은 모델에서 bnref.BatchNorm1d 자리에 torch.nn.BatchNorm1d를 넣으면 학습 기록이 같아야 합니다.
    ours = mlp("bn")
    twin = copy.deepcopy(ours)
    for i, m in enumerate(twin):
        if isinstance(m, bnref.BatchNorm1d):
            twin[i] = nn.BatchNorm1d(m.num_features, dtype=torch.float64)
    h_ours = train(ours, data, epochs=2, lr=0.3, batch_size=128)
    h_twin = train(twin, data, epochs=2, lr=0.3, batch_size=128)
    assert torch.allclose(torch.tensor(h_ours.step_loss), torch.tensor(h_twin.step_loss), atol=1e-9)
    assert h_ours.test_acc == h_twin.test_acc
    assert torch.allclose(ours[1].running_var, twin[1].running_var, atol=1e-9)


def test_evaluate_restores_the_mode(data):
    model = mlp("bn").train()
    evaluate(model, data.x_test, data.y_test)
    assert model.training
