import pytest
import torch

from bbal_tutorial.models import (
    BayesianEMNISTCNN,
    BayesianMNISTCNN,
    ConsistentMCDropout,
    make_model,
    predict_log_probs,
    resolve_device,
)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return BayesianMNISTCNN().eval()


@pytest.fixture
def x_N():
    return torch.randn(23, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def test_forward_shape_and_normalised(model, x_N):
    log_probs_B_K_C = model(x_N[:5], 7)
    assert log_probs_B_K_C.shape == (5, 7, 10)
    torch.testing.assert_close(log_probs_B_K_C.exp().sum(-1), torch.ones(5, 7))


def test_same_point_same_output_whatever_its_batch_and_position(model, x_N):
    k = 6
    with torch.inference_mode():
        all_at_once = model(x_N, k)
        reversed_order = model(x_N.flip(0), k).flip(0)
        alone = torch.cat([model(x_N[i : i + 1], k) for i in range(len(x_N))])
    torch.testing.assert_close(all_at_once, reversed_order, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(all_at_once, alone, rtol=1e-5, atol=1e-5)


def test_predict_log_probs_independent_of_batch_size_incl_smaller_last_batch(model, x_N):
    a = predict_log_probs(model, x_N, 5, chunk_size=4, progress=False)  # last batch holds 3
    b = predict_log_probs(model, x_N, 5, chunk_size=100, progress=False)
    c = predict_log_probs(model, x_N, 5, memory_budget=10_000, progress=False)
    assert a.shape == (23, 5, 10) and a.dtype == torch.float32
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-5)


def test_samples_differ_across_k(model, x_N):
    with torch.inference_mode():
        log_probs = model(x_N[:3], 4)
    for j in range(1, 4):
        assert not torch.allclose(log_probs[:, 0], log_probs[:, j])


def test_masks_redrawn_only_when_asked(model, x_N):
    with torch.inference_mode():
        first = model(x_N[:4], 5)
        again = model(x_N[:4], 5)
        model.redraw_masks()
        redrawn = model(x_N[:4], 5)
    torch.testing.assert_close(first, again)
    assert not torch.allclose(first, redrawn)


def test_inconsistent_mode_differs_across_batches(model, x_N):
    model.set_consistent(False)
    with torch.inference_mode():
        a = model(x_N[:4], 5)
        b = model(x_N[:4], 5)
    assert not torch.allclose(a, b)
    model.set_consistent(True)
    with torch.inference_mode():
        c = model(x_N[:4], 5)
        d = model(x_N[:4], 5)
    torch.testing.assert_close(c, d)


def test_two_models_never_share_masks(x_N):
    torch.manual_seed(0)
    m1 = BayesianMNISTCNN().eval()
    m2 = BayesianMNISTCNN().eval()
    m2.load_state_dict(m1.state_dict())
    with torch.inference_mode():
        a = m1(x_N[:3], 4)
        b = m2(x_N[:3], 4)  # same weights, its own masks
        m1.redraw_masks()
        a_again = m2(x_N[:3], 4)  # redrawing m1's masks leaves m2's alone
    assert not torch.allclose(a, b)
    torch.testing.assert_close(b, a_again)


def test_training_mode_is_ordinary_dropout():
    layer = ConsistentMCDropout(0.5).train()
    x = torch.ones(1000, 20)
    out = layer(x)
    # fresh mask per element: rows differ, about half the entries dropped, survivors scaled by 2
    assert not torch.equal(out[0], out[1])
    assert 0.4 < (out == 0).double().mean() < 0.6
    assert set(out.unique().tolist()) == {0.0, 2.0}


def test_deterministic_part_runs_once_not_k_times(model, x_N):
    seen = []
    hook = model.conv1.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    calls = []
    hook2 = model.conv2.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    with torch.inference_mode():
        model(x_N[:3], 8)
    hook.remove()
    hook2.remove()
    assert seen == [3]
    assert calls == [24]


def test_emnist_model_shape():
    torch.manual_seed(0)
    model = BayesianEMNISTCNN().eval()
    with torch.inference_mode():
        assert model(torch.randn(2, 1, 28, 28), 3).shape == (2, 3, 47)


def test_bad_input_errors(model, x_N):
    with pytest.raises(ValueError, match="k must be"):
        model(x_N[:2], 0)
    with pytest.raises(ValueError, match="unknown model"):
        make_model("resnet", 10)
    with pytest.raises(ValueError, match="dropout probability"):
        ConsistentMCDropout(1.0)
    with pytest.raises(ValueError, match="empty"):
        predict_log_probs(model, x_N[:0], 3, progress=False)


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no GPU"):
            resolve_device("cuda")


# --- the fast path (fast_forward) against the plain K-pass forward ---------------------------

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    ),
]


def rounding_tolerance(log_probs: torch.Tensor) -> float:
    """32 ulps of the largest |log-probability|, in the tensor's precision.

    Both paths sum the same products (MNIST conv2: 32 channels x 25 taps per output) in
    different orders and add conv2's bias after the max-pool, so they differ by a few ulps of
    the largest activations; log-softmax outputs are differences of logits, so their error is
    a few ulps of the largest logit, not of each output. Measured: about 3 ulps.
    """
    return 32 * torch.finfo(log_probs.dtype).eps * max(1.0, log_probs.abs().max().item())


def sharp_model(name: str, dtype: torch.dtype, device: str, seed: int = 0):
    """A model whose weights are doubled, so its log-probs are peaked (|log p| up to ~50) and
    vary across samples (a randomly initialised one predicts nearly uniformly)."""
    torch.manual_seed(seed)
    model = make_model(name, 10 if name == "mnist-cnn" else 47)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(2.0)
    return model.to(device=device, dtype=dtype).eval()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("k", [1, 2, 10, 100])
@pytest.mark.parametrize("batch", [1, 7])
@pytest.mark.parametrize("name", ["mnist-cnn", "emnist-cnn"])
def test_fast_forward_matches_plain_forward(name, batch, k, dtype, device, monkeypatch):
    # cuDNN convolutions may use TF32 (10-bit mantissa) in the plain path; compare float32
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    model = sharp_model(name, dtype, device)
    x = torch.randn(batch, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    x = x.to(device=device, dtype=dtype)
    with torch.inference_mode():
        plain = model(x, k)
        fast = model.fast_forward(x, k)
    assert fast.shape == plain.shape == (batch, k, model.fc2.out_features)
    assert fast.dtype == dtype and fast.device.type == device
    tol = rounding_tolerance(plain)
    torch.testing.assert_close(fast, plain, rtol=0.0, atol=tol)
    if k > 1:
        # the comparison is sharp: the samples differ by far more than the tolerance, so
        # pairing the wrong masks with the wrong sample would fail
        assert (plain - plain.roll(1, dims=1)).abs().max() > 1e3 * tol


@pytest.mark.parametrize("name", ["mnist-cnn", "emnist-cnn"])
def test_fast_path_draws_the_same_masks_in_the_same_order(name):
    """A fresh model's first fast call draws exactly the masks its first plain call would."""
    plain_model = sharp_model(name, torch.float32, "cpu")
    fast_model = sharp_model(name, torch.float32, "cpu")
    x = torch.randn(5, 1, 28, 28)
    with torch.inference_mode():
        torch.manual_seed(123)
        plain = plain_model(x, 10)
        torch.manual_seed(123)
        fast = fast_model.fast_forward(x, 10)
    torch.testing.assert_close(fast, plain, rtol=0.0, atol=rounding_tolerance(plain))
    for a, b in zip(plain_model.mc_dropout_layers(), fast_model.mc_dropout_layers(), strict=True):
        assert torch.equal(a._masks[10], b._masks[10])


@pytest.mark.parametrize("name", ["mnist-cnn", "emnist-cnn"])
def test_fast_and_plain_paths_share_masks_in_either_order(name):
    model = sharp_model(name, torch.float32, "cpu")
    x = torch.randn(6, 1, 28, 28)
    with torch.inference_mode():
        fast_first = model.fast_forward(x, 4)
        plain_after = model(x, 4)
        model.redraw_masks()
        redrawn = model.fast_forward(x, 4)
    tol = rounding_tolerance(plain_after)
    torch.testing.assert_close(fast_first, plain_after, rtol=0.0, atol=tol)
    assert not torch.allclose(fast_first, redrawn, atol=1e-3)


def test_fast_path_without_dropout_matches_plain():
    torch.manual_seed(0)
    model = BayesianMNISTCNN(p=0.0).eval()
    x = torch.randn(3, 1, 28, 28)
    with torch.inference_mode():
        torch.testing.assert_close(model.fast_forward(x, 3), model(x, 3), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["mnist-cnn", "emnist-cnn"])
def test_predict_log_probs_same_whatever_the_chunking_and_path(name, x_N):
    model = sharp_model(name, torch.float32, "cpu")
    runs = [
        predict_log_probs(model, x_N, 10, chunk_size=1, progress=False),
        predict_log_probs(model, x_N, 10, chunk_size=4, progress=False),
        predict_log_probs(model, x_N, 10, chunk_size=100, progress=False),
        predict_log_probs(model, x_N, 10, memory_budget=2**20, progress=False),
        predict_log_probs(model, x_N, 10, chunk_size=100, progress=False, fast=False),
    ]
    model.fast_cache_bytes = 1  # CPU sub-batches of a single point inside each chunk
    runs.append(predict_log_probs(model, x_N, 10, chunk_size=100, progress=False))
    for run in runs[1:]:
        torch.testing.assert_close(run, runs[0], rtol=0.0, atol=rounding_tolerance(runs[0]))


def test_predict_log_probs_uses_the_fast_path(model, x_N):
    conv2_inputs = []
    hook = model.conv2.register_forward_hook(lambda m, i, o: conv2_inputs.append(i[0].shape[0]))
    try:
        predict_log_probs(model, x_N, 8, chunk_size=100, progress=False)
        assert conv2_inputs == []  # the fast path never runs conv2 on K-expanded inputs
        predict_log_probs(model, x_N, 8, chunk_size=100, progress=False, fast=False)
        assert conv2_inputs == [23 * 8]
    finally:
        hook.remove()


@pytest.mark.parametrize("name", ["mnist-cnn", "emnist-cnn"])
def test_fast_forward_in_training_mode_is_ordinary_dropout(name):
    model = sharp_model(name, torch.float32, "cpu").train()
    x = torch.randn(4, 1, 28, 28)
    torch.manual_seed(5)
    fast = model.fast_forward(x, 1)
    torch.manual_seed(5)
    plain = model(x, 1)
    torch.testing.assert_close(fast, plain)  # the same computation: the plain forward
    assert not torch.allclose(model.fast_forward(x, 1), model.fast_forward(x, 1))  # fresh masks
    assert all(not layer._masks for layer in model.mc_dropout_layers())  # nothing cached


@pytest.mark.parametrize("name", ["mnist-cnn", "emnist-cnn"])
def test_fast_forward_in_inconsistent_mode_is_unchanged(name):
    model = sharp_model(name, torch.float32, "cpu")
    model.set_consistent(False)
    x = torch.randn(4, 1, 28, 28)
    with torch.inference_mode():
        torch.manual_seed(5)
        fast = model.fast_forward(x, 5)
        torch.manual_seed(5)
        plain = model(x, 5)
        again = model.fast_forward(x, 5)
    torch.testing.assert_close(fast, plain)
    assert not torch.allclose(fast, again, atol=1e-3)  # fresh masks on every call


def test_emnist_output_reads_only_the_top_left_22x22_pixels():
    """Floor max-pooling drops odd last rows/columns three times; the fast path relies on it."""
    model = sharp_model("emnist-cnn", torch.float32, "cpu")
    x = torch.randn(3, 1, 28, 28)
    changed = x.clone()
    changed[..., 22:, :] = 5.0
    changed[..., :, 22:] = -5.0
    touched = x.clone()
    touched[..., 21, 21] += 1.0
    with torch.inference_mode():
        torch.testing.assert_close(model(changed, 4), model(x, 4))
        assert not torch.allclose(model(touched, 4), model(x, 4))
