"""bnref.course.experiments: 데이터 분할·정규화, 모델 구성, 잡음 섞인 BN, 결정적인 학습 루프 (강의 7·10이 씀)."""

import copy
import math

import pytest
import torch
from torch import nn

import bnref
from bnref.course.experiments import NoisyBatchNorm, cnn, evaluate, load_digits, mlp, train


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


def test_unknown_norm_is_refused():
    with pytest.raises(ValueError, match="norm must be None, 'bn' or 'noisy_bn'"):
        mlp("layer_norm")


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
