"""bnref.SyncBatchNorm: 여러 랭크에 나눈 배치가 이어 붙인 배치 하나와 같은 값을 내는지.

빠른 검사(한 프로세스): 그룹이 없거나 크기가 1이면 BatchNorm과 똑같음, 오류는 torch와 같음,
convert_sync_batchnorm, 병렬 분산 공식, 그리고 크기가 1인 그룹에서 동기화 경로를 억지로 탄 계산.
느린 검사(@slow): gloo로 실제 프로세스 2개, 3개를 띄워 출력·기울기·이동 통계를 비교.
모델 전체를 torchrun과 DDP로 학습하는 검사는 tests/test_ddp.py에 있습니다.
"""

import copy
import datetime
import sys

import pytest
import torch
import torch.distributed as dist

import bnref
from bnref.course.launch import spawn
from bnref.sync import SyncBatchNorm, combine_moments
from bnref.course.sync_workers import PLAIN, count_collectives, shard, sync_train_all, train_steps

F64 = torch.float64
SHAPES = [(6, 3), (4, 3, 5), (3, 3, 2, 2), (2, 3, 2, 2, 2)]
FLAGS = [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False}, {"eps": 1e-3}]


def batches_for(shape, steps=3, offset=0.0, seed=0, dtype=F64):
    """스텝마다 배치와 출력 기울기. 값은 ``offset`` 근처 (채널마다 평균과 폭이 다름)."""
    gen = torch.Generator().manual_seed(seed)
    scale = torch.arange(1.0, shape[1] + 1).reshape(1, -1, *[1] * (len(shape) - 2))
    xs = [(torch.randn(shape, generator=gen, dtype=F64) * scale + offset + scale).to(dtype) for _ in range(steps)]
    gs = [torch.randn(shape, generator=gen, dtype=F64).to(dtype) for _ in range(steps)]
    return xs, gs


def start_state(num_features, dtype=F64, **flags):
    """γ, β가 1, 0이 아닌 시작 상태(γ와 β가 뒤바뀌는 실수도 드러나게)."""
    bn = bnref.BatchNorm1d(num_features, dtype=dtype, **flags)
    with torch.no_grad():
        if bn.affine:
            bn.weight.copy_(torch.linspace(0.5, 2.0, num_features))
            bn.bias.copy_(torch.linspace(-1.0, 1.0, num_features))
        if bn.track_running_stats:
            bn.running_mean.fill_(0.5)
            bn.running_var.fill_(2.0)
    return bn.state_dict()


def run(cls, shape, flags, xs, gs, dtype=F64):
    bn = cls(shape[1], dtype=dtype, **flags)
    bn.load_state_dict(start_state(shape[1], dtype, **flags))
    out = train_steps(bn, xs, gs)
    bn.eval()
    out["eval_output"] = bn(xs[-1]).detach()
    return out


def assert_same(got, want, atol=0.0, rtol=0.0):
    assert got.keys() == want.keys()
    for key in want:
        torch.testing.assert_close(got[key], want[key], atol=atol, rtol=rtol, msg=key)


# ---------------------------------------------------------------- without a process group


@pytest.mark.parametrize("flags", FLAGS, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_without_process_group_is_exactly_batchnorm(shape, flags):
    assert not dist.is_initialized()
    xs, gs = batches_for(shape)
    assert_same(run(SyncBatchNorm, shape, flags, xs, gs), run(PLAIN[len(shape)], shape, flags, xs, gs))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_without_process_group_matches_torch(shape):
    xs, gs = batches_for(shape)
    assert_same(run(SyncBatchNorm, shape, {}, xs, gs), run(torch.nn.SyncBatchNorm, shape, {}, xs, gs),
                atol=1e-12, rtol=1e-12)


BAD_INPUTS = [
    ("1D input", {}, torch.randn(3)),
    ("no channels", {"num_features": 0}, torch.randn(2, 0)),
    ("one value per channel", {}, torch.randn(1, 3)),
    ("one value per channel, 4D", {}, torch.randn(1, 3, 1, 1)),
    ("integer input", {}, torch.ones(2, 3, dtype=torch.long)),
    ("wrong channel count", {"num_features": 5}, torch.randn(4, 3)),
    ("eps zero", {"eps": 0.0}, torch.randn(4, 3)),
]


@pytest.mark.parametrize("kwargs, x", [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_raises_like_torch_and_changes_nothing(kwargs, x):
    kwargs = {"num_features": 3, **kwargs}
    ours, theirs = SyncBatchNorm(**kwargs), torch.nn.SyncBatchNorm(**kwargs)
    before = copy.deepcopy(ours.state_dict())
    with pytest.raises(Exception) as want:
        theirs(x)
    with pytest.raises(type(want.value)) as got:
        ours(x)
    assert str(got.value) == str(want.value)
    assert_same(ours.state_dict(), before)


def test_repr_and_state_dict_keys_match_torch():
    ours, theirs = SyncBatchNorm(4, momentum=None), torch.nn.SyncBatchNorm(4, momentum=None)
    assert repr(ours) == repr(theirs)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    ours.load_state_dict(theirs.state_dict())


# ---------------------------------------------------------------- convert_sync_batchnorm


def net_with_batchnorms():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 1),
        bnref.BatchNorm2d(4, momentum=None),
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 5), torch.nn.BatchNorm1d(5, eps=1e-3)),
        torch.nn.BatchNorm2d(2, affine=False).eval(),
    )


def test_convert_replaces_every_batchnorm_recursively():
    net = SyncBatchNorm.convert_sync_batchnorm(net_with_batchnorms(), process_group="group")
    names = {name: type(m).__name__ for name, m in net.named_modules()}
    assert names == {"": "Sequential", "0": "Conv2d", "1": "SyncBatchNorm", "2": "Sequential",
                     "2.0": "Flatten", "2.1": "Linear", "2.2": "SyncBatchNorm", "3": "SyncBatchNorm"}
    assert all(isinstance(net[i], SyncBatchNorm) for i in (1, 3)) and isinstance(net[2][2], SyncBatchNorm)
    assert {net[1].process_group, net[2][2].process_group, net[3].process_group} == {"group"}


def test_convert_keeps_settings_training_flag_and_the_same_tensors():
    old = net_with_batchnorms()
    old[1].running_mean.fill_(3.0)
    pairs = [(old[1], 1), (old[2][2], (2, 2)), (old[3], 3)]
    new = SyncBatchNorm.convert_sync_batchnorm(old)
    for before, where in pairs:
        after = new[where] if isinstance(where, int) else new[where[0]][where[1]]
        for attr in ("num_features", "eps", "momentum", "affine", "track_running_stats", "training"):
            assert getattr(after, attr) == getattr(before, attr), attr
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            assert getattr(after, name) is getattr(before, name), name  # 같은 텐서: 옵티마이저가 그대로 이어짐
    assert new[3].training is False and new[1].training is True


def test_convert_of_a_bare_batchnorm_returns_a_new_layer_like_torch():
    bn = bnref.BatchNorm1d(3)
    converted = SyncBatchNorm.convert_sync_batchnorm(bn)
    assert type(converted) is SyncBatchNorm and converted is not bn
    reference = torch.nn.SyncBatchNorm.convert_sync_batchnorm(torch.nn.BatchNorm1d(3))
    assert repr(converted) == repr(reference)


def test_convert_leaves_other_normalizations_alone():
    net = torch.nn.Sequential(bnref.InstanceNorm2d(3), torch.nn.InstanceNorm2d(3), torch.nn.LayerNorm(3),
                              torch.nn.GroupNorm(1, 3))
    before = [type(m) for m in net]
    assert [type(m) for m in SyncBatchNorm.convert_sync_batchnorm(net)] == before


def test_convert_leaves_a_model_without_batchnorm_alone():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2))
    assert SyncBatchNorm.convert_sync_batchnorm(net) is net


# ---------------------------------------------------------------- the parallel-variance formula


def moments(parts):
    """조각마다 (n, 평균, M2). 빈 조각은 (0, 0, 0)."""
    counts = torch.tensor([float(len(p)) for p in parts], dtype=F64)
    means = torch.stack([p.mean(0) if len(p) else p.new_zeros(p.shape[1:]) for p in parts])
    m2s = torch.stack([((p - p.mean(0)) ** 2).sum(0) if len(p) else p.new_zeros(p.shape[1:]) for p in parts])
    return counts, means, m2s


@pytest.mark.parametrize("sizes", [(8,), (4, 4), (3, 0, 5), (1, 1, 1, 5), (0, 7, 0)], ids=str)
@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_combined_moments_equal_the_whole_batch(sizes, offset):
    x = batches_for((sum(sizes), 4), steps=1, offset=offset)[0][0]
    parts = list(torch.split(x, list(sizes)))
    n, mean, m2 = combine_moments(*moments(parts))
    assert n.item() == sum(sizes)
    torch.testing.assert_close(mean, x.mean(0), rtol=1e-14, atol=0.0)
    # x − offset은 반올림 없이 정확하므로(Sterbenz) 기준 분산을 작은 수에서 구합니다.
    torch.testing.assert_close(m2 / n, (x - offset).var(0, correction=0), rtol=1e-12, atol=0.0)


def test_combining_without_the_between_term_would_be_wrong():
    # 조각 평균이 서로 다르면 M2의 합만으로는 모자랍니다: 이 검사가 공식의 두 번째 항을 지킵니다.
    parts = [torch.zeros(2, 1, dtype=F64), torch.ones(2, 1, dtype=F64)]
    n, mean, m2 = combine_moments(*moments(parts))
    assert (n.item(), mean.item(), m2.item()) == (4.0, 0.5, 1.0)


# ---------------------------------------------------------------- the sync path in one process


@pytest.fixture(scope="module")
def group_of_one(tmp_path_factory):
    """크기가 1인 gloo 그룹(이 프로세스 하나)."""
    store = tmp_path_factory.mktemp("rendezvous") / "store"
    with pytest.MonkeyPatch.context() as mp:
        if sys.platform.startswith("linux"):
            mp.setenv("GLOO_SOCKET_IFNAME", "lo")  # 바깥 네트워크와 상관없이(bnref.course.launch와 같게)
        dist.init_process_group("gloo", init_method=f"file://{store}", rank=0, world_size=1,
                                timeout=datetime.timedelta(seconds=30))
    yield dist.group.WORLD
    dist.destroy_process_group()


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_world_size_one_is_exactly_batchnorm_and_sends_nothing(group_of_one, shape):
    xs, gs = batches_for(shape)
    with count_collectives() as calls:
        got = run(SyncBatchNorm, shape, {}, xs, gs)
    assert calls == []
    assert_same(got, run(PLAIN[len(shape)], shape, {}, xs, gs))


@pytest.fixture
def forced_sync(group_of_one, monkeypatch):
    """크기가 1인 그룹에서도 동기화 경로를 타게 합니다: 모으기·합치기·all_reduce의 계산을 빠르게 검사."""
    monkeypatch.setattr(SyncBatchNorm, "_group_to_sync", lambda self: group_of_one if self.training else None)


@pytest.mark.parametrize("flags", FLAGS, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sync_path_equals_batchnorm(forced_sync, shape, flags):
    xs, gs = batches_for(shape, offset=1e3)
    with count_collectives() as calls:
        got = run(SyncBatchNorm, shape, flags, xs, gs)
    steps = len(xs)
    assert [name for name, _ in calls] == ["all_gather", "all_reduce"] * steps  # 평가 모드는 0 번
    assert_same(got, run(PLAIN[len(shape)], shape, flags, xs, gs), atol=1e-10, rtol=1e-10)


def test_sync_path_float32_is_as_accurate_as_batchnorm(forced_sync):
    xs, gs = batches_for((64, 3, 4), offset=1e4, dtype=torch.float32)
    got = run(SyncBatchNorm, (64, 3, 4), {}, xs, gs, dtype=torch.float32)
    want = run(bnref.BatchNorm1d, (64, 3, 4), {}, xs, gs, dtype=torch.float32)
    assert_same(got, want, atol=1e-4, rtol=1e-5)
    assert abs(got["output"].double().std().item() - want["output"].double().std().item()) < 1e-5


@pytest.mark.parametrize("layout", ["channels_last", "non-contiguous"])
def test_sync_path_handles_memory_layouts(forced_sync, layout):
    xs, gs = batches_for((4, 3, 2, 5), offset=1e3)
    if layout == "channels_last":
        xs = [x.to(memory_format=torch.channels_last) for x in xs]
    else:
        xs = [x.transpose(2, 3).contiguous().transpose(2, 3) for x in xs]
        assert not xs[0].is_contiguous()
    got = run(SyncBatchNorm, (4, 3, 2, 5), {}, xs, gs)
    assert_same(got, run(bnref.BatchNorm2d, (4, 3, 2, 5), {}, xs, gs), atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_sync_path_low_precision_matches_batchnorm(forced_sync, dtype):
    xs, gs = batches_for((16, 3), dtype=dtype)
    got = run(SyncBatchNorm, (16, 3), {}, xs, gs, dtype=torch.float32)
    want = run(bnref.BatchNorm1d, (16, 3), {}, xs, gs, dtype=torch.float32)
    assert got["output"].dtype == dtype
    assert_same(got, want, atol=1e-2, rtol=1e-2)


def test_sync_path_empty_batch_behaves_like_batchnorm(forced_sync):
    xs, gs = batches_for((0, 3))
    got = run(SyncBatchNorm, (0, 3), {}, xs, gs)
    want = run(bnref.BatchNorm1d, (0, 3), {}, xs, gs)
    assert_same(got, want)


def test_sync_path_one_value_in_the_group_raises_and_changes_nothing(forced_sync):
    bn = SyncBatchNorm(3)
    before = copy.deepcopy(bn.state_dict())
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(torch.randn(1, 3))
    assert_same(bn.state_dict(), before)


def test_sync_path_rejects_bad_input_before_sending_anything(forced_sync):
    bn = SyncBatchNorm(3, eps=0.0)
    with count_collectives() as calls, pytest.raises(ValueError, match="eps must be positive"):
        bn(torch.randn(4, 3))
    assert calls == [] and bn.num_batches_tracked.item() == 0


# ---------------------------------------------------------------- real processes (gloo)

# (이름, 랭크별 크기, 한 랭크의 모양(dim 0 제외), offset, 인자)
CASES = {
    2: [
        ("equal sizes", (4, 4), (3,), 0.0, {}),
        ("unequal, 3D, near 1e3", (5, 2), (3, 4), 1e3, {}),
        ("one value on each rank", (1, 1), (3,), 0.0, {}),
        ("4D, momentum None", (3, 2), (2, 3, 2), 1e3, {"momentum": None}),
        ("affine False", (2, 3), (3, 2), 0.0, {"affine": False}),
        ("no running stats", (4, 2), (3, 2), 0.0, {"track_running_stats": False}),
        ("one value in the group", (1, 0), (3,), 0.0, {}),
    ],
    3: [
        ("3, 0, 5 near 1e3", (3, 0, 5), (4, 3), 1e3, {}),
        ("3, 0, 5, 2D", (3, 0, 5), (4,), 0.0, {}),
        ("3, 0, 5, 4D", (3, 0, 5), (2, 2, 3), 1e3, {"momentum": None}),
        ("5D", (1, 2, 1), (2, 2, 2, 2), 0.0, {}),
        ("empty group batch", (0, 0, 0), (3,), 0.0, {}),
    ],
}
IDS = [(w, name) for w, cases in CASES.items() for name, *_ in cases]


def case_inputs(sizes, rest, offset, flags):
    shape = (sum(sizes), *rest)
    xs, gs = batches_for(shape, steps=2, offset=offset)
    return xs, gs, shape


@pytest.fixture(scope="module")
def spawned():
    """세계 크기마다 spawn 한 번: 모든 경우를 한 번에 돌립니다(프로세스 시작이 비용의 대부분)."""
    results = {}
    for world, cases in CASES.items():
        jobs = []
        for name, sizes, rest, offset, flags in cases:
            xs, gs, shape = case_inputs(sizes, rest, offset, flags)
            jobs.append((xs, gs, sizes, start_state(shape[1], **flags), flags))
        per_rank = spawn(sync_train_all, world, (jobs,), timeout=120)
        for i, (name, *_) in enumerate(cases):
            results[world, name] = [rank_results[i] for rank_results in per_rank]
    return results


def reference(cls, world, name):
    _, sizes, rest, offset, flags = next(c for c in CASES[world] if c[0] == name)
    xs, gs, shape = case_inputs(sizes, rest, offset, flags)
    return run(cls, shape, flags, xs, gs)


TORCH_PLAIN = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d, 5: torch.nn.BatchNorm3d}
EQUAL_IDS = [i for i in IDS if i[1] != "one value in the group"]


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("world, name", EQUAL_IDS, ids=str)
@pytest.mark.parametrize("impl", ["bnref", "torch"])
def test_ranks_together_equal_batchnorm_on_the_concatenated_batch(spawned, world, name, impl):
    _, sizes, rest, offset, flags = next(c for c in CASES[world] if c[0] == name)
    xs, gs, shape = case_inputs(sizes, rest, offset, flags)
    want = run({"bnref": PLAIN, "torch": TORCH_PLAIN}[impl][len(shape)], shape, flags, xs, gs)
    ranks = spawned[world, name]
    got = {"output": torch.cat([r["output"] for r in ranks]), "grad_input": torch.cat([r["grad_input"] for r in ranks])}
    for key in ("grad_weight", "grad_bias"):  # 손실 Σ(y·g)가 합이므로 랭크들의 몫을 더하면 전체의 기울기
        if key in want:
            got[key] = sum(r[key] for r in ranks)
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        if key in want:
            got[key] = ranks[0][key]
            for r in ranks[1:]:
                assert torch.equal(r[key], ranks[0][key]), f"{key} differs between ranks"
    if flags.get("track_running_stats", True):
        got["eval_output"] = torch.cat([r["eval_output"] for r in ranks])
    else:  # 이동 통계가 없으면 평가에서도 배치 통계인데, 평가는 동기화하지 않으므로 랭크마다 따로
        del want["eval_output"]
    assert_same(got, want, atol=1e-9, rtol=1e-9)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_eval_without_running_stats_uses_each_ranks_own_batch(spawned):
    _, sizes, rest, offset, flags = next(c for c in CASES[2] if c[0] == "no running stats")
    xs, _, shape = case_inputs(sizes, rest, offset, flags)
    for rank, r in enumerate(spawned[2, "no running stats"]):
        own = bnref.BatchNorm1d(shape[1], dtype=F64, **flags)
        own.load_state_dict(start_state(shape[1], **flags))
        torch.testing.assert_close(r["eval_output"], own.eval()(shard(xs[-1], sizes, rank)), atol=1e-12, rtol=0)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("world, name", EQUAL_IDS, ids=str)
def test_eval_mode_sends_nothing(spawned, world, name):
    assert [r["eval_collectives"] for r in spawned[world, name]] == [0] * world


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_one_value_in_the_whole_group_raises_on_every_rank(spawned):
    errors = [r["error"] for r in spawned[2, "one value in the group"]]
    assert all(e.startswith("ValueError: Expected more than 1 value per channel when training") for e in errors)
    assert errors[0] == errors[1]
