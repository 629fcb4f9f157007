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
