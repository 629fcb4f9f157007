"""The GPU path, on a real CUDA device: every test here is marked ``gpu`` and skips (with the
reason) where PyTorch sees no GPU, as on CI and on this project's CPU machines.

Run them on a GPU machine with ``python -m pytest -m gpu tests/test_gpu.py`` or through
``benchmarks/gpu_check.py``, which also times a paper-protocol round.
"""

from __future__ import annotations

import time

import pytest
import torch

from bbal_tutorial.acquisition import get_batchbald_batch
from bbal_tutorial.loop import first_round, prepare_data, run_experiment
from bbal_tutorial.models import make_model, predict_log_probs
from bbal_tutorial.presets import make_config

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

#: A teaching-preset run cut to a few seconds: the offline sample, b = 10, two rounds.
TINY = dict(
    data_source="sample",
    max_train_images=300,
    validation_size=64,
    max_test_size=200,
    label_budget=30,
    max_epochs=2,
    samples_per_epoch=128,
)


@pytest.mark.parametrize("name, classes", [("mnist-cnn", 10), ("emnist-cnn", 47)])
def test_models_run_on_cuda_and_agree_with_the_cpu(name, classes):
    torch.manual_seed(0)
    model = make_model(name, classes).eval()
    # dropout off (p = 0): the masks, drawn on each device's own generator, are then all ones,
    # so both devices compute the same deterministic network
    for module in model.modules():
        if hasattr(module, "p") and hasattr(module, "reset_masks"):
            module.p = 0.0
    x_B_1_H_W = torch.randn(64, 1, 28, 28)
    on_cpu = predict_log_probs(model, x_B_1_H_W, 4, device="cpu", progress=False)
    on_gpu = predict_log_probs(model.cuda(), x_B_1_H_W, 4, device="cuda", progress=False)
    assert on_gpu.device.type == "cuda" and on_gpu.shape == on_cpu.shape
    assert torch.isfinite(on_gpu).all()
    # float32 on both; cuDNN may use TF32 for convolutions, hence the loose tolerance
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, atol=5e-2, rtol=0)


def test_fast_prediction_matches_the_plain_forward_on_cuda():
    torch.manual_seed(1)
    model = make_model("mnist-cnn", 10).cuda().eval()
    x_B_1_H_W = torch.randn(128, 1, 28, 28, device="cuda")
    torch.manual_seed(2)
    fast = predict_log_probs(model, x_B_1_H_W, 20, device="cuda", progress=False)
    torch.manual_seed(2)
    plain = predict_log_probs(model, x_B_1_H_W, 20, device="cuda", progress=False, fast=False)
    torch.testing.assert_close(fast, plain, atol=2e-2, rtol=0)


def test_batchbald_picks_on_cuda_are_the_cpu_picks_in_the_exact_regime():
    generator = torch.Generator().manual_seed(3)
    logits_N_K_C = 3 * torch.randn(200, 10, 4, generator=generator, dtype=torch.float64)
    log_probs_N_K_C = torch.log_softmax(logits_N_K_C, dim=-1)
    # 4^4 = 256 configurations <= num_samples: every joint entropy is exact, no sampling
    on_cpu = get_batchbald_batch(log_probs_N_K_C, 4, num_samples=1_000, seed=0)
    on_gpu = get_batchbald_batch(log_probs_N_K_C.cuda(), 4, num_samples=1_000, seed=0)
    assert on_gpu.indices == on_cpu.indices
    assert on_gpu.scores == pytest.approx(on_cpu.scores, abs=1e-6)


def test_a_teaching_run_with_device_cuda(tmp_path):
    config = make_config("teaching", "repeated-mnist", acquisition="batchbald", **TINY)
    run = run_experiment(config, tmp_path / "run.json", device="cuda", progress=False)
    assert run.device.startswith("cuda") and run.finished
    assert run.labels == [20, 30]
    assert all(0.0 <= r.test_accuracy <= 1.0 for r in run.rounds)


def test_paper_preset_round_timing_on_cuda(capsys):
    """One round of ``--preset paper`` on Repeated MNIST (on whatever MNIST is present: full
    MNIST in the data directory, else the offline sample), timed phase by phase."""
    config = make_config("paper", "repeated-mnist", acquisition="batchbald")
    experiment = prepare_data(config)
    start = time.perf_counter()
    record = first_round(config, experiment, device=torch.device("cuda"))
    seconds = time.perf_counter() - start
    assert len(record.acquired_indices) == config.acquisition_size
    with capsys.disabled():
        print(
            f"\npaper-preset Repeated MNIST round on {torch.cuda.get_device_name()}: "
            f"{seconds:.1f} s (train {record.train_seconds:.1f}, evaluate "
            f"{record.eval_seconds:.1f}, score pool {record.predict_seconds:.1f}, select "
            f"{record.select_seconds:.1f}); pool {len(experiment.pool_indices):,}, "
            f"data: {experiment.data.source}"
        )
