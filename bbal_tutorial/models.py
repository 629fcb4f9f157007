"""Bayesian CNNs with consistent MC dropout, and pool prediction.

A :class:`BayesianModule` maps ``(x_B_..., k)`` to log-probabilities ``log_probs_B_K_C``: ``k``
posterior samples, each an MC-dropout network.  For acquisition the ``k`` samples must be the
*same* ``k`` networks for every pool point (consistent MC dropout): BatchBALD's joint entropy
couples the predictions ``y_i`` of different points through the shared ``w_k``, and fresh masks
for every forward call would destroy exactly that coupling.

* Training mode: ordinary dropout (a fresh mask for every element), ``k`` is usually 1.
* Evaluation mode, ``consistent=True`` (default): ``k`` masks are drawn once per ``k`` and reused
  for every chunk of points, every order and every chunk size, until
  :meth:`BayesianModule.redraw_masks`.
* Evaluation mode, ``consistent=False``: fresh ``k`` masks on every forward call (per chunk) -- the
  broken variant used to show how acquisition scores spread without consistency.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm


class _ConsistentMCDropout(nn.Module):
    """Dropout whose eval-mode masks are drawn once per number of samples ``k`` and then reused.

    Input in eval mode: ``x_BK_...`` with the ``k`` samples as the inner factor of the first axis
    (as produced by :meth:`BayesianModule.forward`).  The mask has shape
    ``[k, *mask_feature_shape]`` and broadcasts over the batch.  The masks live on this instance
    (no class-level state), so two models never share masks.
    """

    def __init__(self, p: float = 0.5, *, consistent: bool = True) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must be in [0, 1), got {p}")
        self.p = p
        self.consistent = consistent
        self.k = 1  # set by the owning BayesianModule before each forward
        self._masks: dict[int, torch.Tensor] = {}

    def extra_repr(self) -> str:
        return f"p={self.p}, consistent={self.consistent}"

    def reset_masks(self) -> None:
        self._masks.clear()

    def _mask_feature_shape(self, x_BK_: torch.Tensor) -> tuple[int, ...]:
        raise NotImplementedError

    def _train_dropout(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _draw_mask(self, x_BK_: torch.Tensor, k: int) -> torch.Tensor:
        keep = torch.full((k, *self._mask_feature_shape(x_BK_)), 1.0 - self.p, device=x_BK_.device)
        return torch.bernoulli(keep).to(x_BK_.dtype) / (1.0 - self.p)

    def forward(self, x_BK_: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0:
            return x_BK_
        if self.training:
            return self._train_dropout(x_BK_)
        k = self.k
        if self.consistent:
            mask = self._masks.get(k)
            if mask is None or mask.device != x_BK_.device or mask.dtype != x_BK_.dtype:
                mask = self._masks[k] = self._draw_mask(x_BK_, k)
        else:
            mask = self._draw_mask(x_BK_, k)
        x_B_K_ = x_BK_.unflatten(0, (-1, k))
        return (x_B_K_ * mask).flatten(0, 1)


class ConsistentMCDropout(_ConsistentMCDropout):
    """Element-wise dropout for dense features ``x_BK_F``; one mask entry per feature."""

    def _mask_feature_shape(self, x_BK_: torch.Tensor) -> tuple[int, ...]:
        return tuple(x_BK_.shape[1:])

    def _train_dropout(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, training=True)


class ConsistentMCDropout2d(_ConsistentMCDropout):
    """Channel-wise dropout for feature maps ``x_BK_C_H_W``; one mask entry per channel."""

    def _mask_feature_shape(self, x_BK_: torch.Tensor) -> tuple[int, ...]:
        return (x_BK_.shape[1],) + (1,) * (x_BK_.dim() - 2)

    def _train_dropout(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout2d(x, self.p, training=True)


class BayesianModule(nn.Module):
    """Base class: ``forward(x_B_..., k) -> log_probs_B_K_C``.

    Subclasses split their network in two: :meth:`deterministic_forward` (everything before the
    first dropout layer, computed once per input) and :meth:`mc_forward` (the rest, computed for
    the ``B * k`` expanded inputs; returns logits).
    """

    def deterministic_forward(self, x_B_: torch.Tensor) -> torch.Tensor:
        return x_B_

    def mc_forward(self, h_BK_: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def mc_dropout_layers(self) -> Iterator[_ConsistentMCDropout]:
        return (m for m in self.modules() if isinstance(m, _ConsistentMCDropout))

    def redraw_masks(self) -> None:
        """Forget the consistent masks; the next eval-mode forward draws new ones."""
        for layer in self.mc_dropout_layers():
            layer.reset_masks()

    def set_consistent(self, consistent: bool) -> None:
        """Switch between consistent masks (default) and fresh masks for every forward call."""
        for layer in self.mc_dropout_layers():
            layer.consistent = consistent
        self.redraw_masks()

    def forward(self, x_B_: torch.Tensor, k: int = 1) -> torch.Tensor:
        if k < 1:
            raise ValueError(f"the number of MC samples k must be >= 1, got {k}")
        h_B_ = self.deterministic_forward(x_B_)
        # The k samples become the inner factor of the batch axis: row b*k + j is point b, sample j.
        h_BK_ = h_B_.unsqueeze(1).expand(h_B_.shape[0], k, *h_B_.shape[1:]).flatten(0, 1)
        for layer in self.mc_dropout_layers():
            layer.k = k
        logits_BK_C = self.mc_forward(h_BK_)
        return F.log_softmax(logits_BK_C, dim=-1).unflatten(0, (-1, k))


class BayesianMNISTCNN(BayesianModule):
    """The paper's MNIST model (also Repeated MNIST, Fashion-MNIST), for 1x28x28 inputs.

    conv 32 (5x5) - dropout2d - maxpool - relu; conv 64 (5x5) - dropout2d - maxpool - relu;
    fc 1024 -> 128 - dropout - relu; fc 128 -> num_classes.  Dropout p = 0.5 throughout.
    """

    def __init__(self, num_classes: int = 10, p: float = 0.5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv1_drop = ConsistentMCDropout2d(p)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.conv2_drop = ConsistentMCDropout2d(p)
        self.fc1 = nn.Linear(1024, 128)
        self.fc1_drop = ConsistentMCDropout(p)
        self.fc2 = nn.Linear(128, num_classes)

    def deterministic_forward(self, x_B_1_H_W: torch.Tensor) -> torch.Tensor:
        return self.conv1(x_B_1_H_W)

    def mc_forward(self, h_BK_32_24_24: torch.Tensor) -> torch.Tensor:
        h = F.relu(F.max_pool2d(self.conv1_drop(h_BK_32_24_24), 2))
        h = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(h)), 2))
        h = F.relu(self.fc1_drop(self.fc1(h.flatten(1))))
        return self.fc2(h)


class BayesianEMNISTCNN(BayesianModule):
    """The paper's EMNIST model, for 1x28x28 inputs and 47 classes.

    conv 32 / 64 / 128 (3x3), each followed by dropout2d, maxpool and relu; fc 128 -> 512 with
    dropout and relu; fc 512 -> num_classes.
    """

    def __init__(self, num_classes: int = 47, p: float = 0.5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)
        self.conv1_drop = ConsistentMCDropout2d(p)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
        self.conv2_drop = ConsistentMCDropout2d(p)
        self.conv3 = nn.Conv2d(64, 128, kernel_size=3)
        self.conv3_drop = ConsistentMCDropout2d(p)
        self.fc1 = nn.Linear(128, 512)
        self.fc1_drop = ConsistentMCDropout(p)
        self.fc2 = nn.Linear(512, num_classes)

    def deterministic_forward(self, x_B_1_H_W: torch.Tensor) -> torch.Tensor:
        return self.conv1(x_B_1_H_W)

    def mc_forward(self, h_BK_32_26_26: torch.Tensor) -> torch.Tensor:
        h = F.relu(F.max_pool2d(self.conv1_drop(h_BK_32_26_26), 2))  # 13x13
        h = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(h)), 2))  # 11 -> 5
        h = F.relu(F.max_pool2d(self.conv3_drop(self.conv3(h)), 2))  # 3 -> 1
        h = F.relu(self.fc1_drop(self.fc1(h.flatten(1))))
        return self.fc2(h)


MODELS: dict[str, type[BayesianModule]] = {
    "mnist-cnn": BayesianMNISTCNN,
    "emnist-cnn": BayesianEMNISTCNN,
}


def make_model(name: str, num_classes: int) -> BayesianModule:
    """A fresh, randomly initialised model by name (``"mnist-cnn"`` or ``"emnist-cnn"``)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](num_classes=num_classes)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/``None``: CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was requested but PyTorch sees no GPU here; use --device cpu or auto"
        )
    return device


def _activation_bytes_per_sample(model: BayesianModule, x_1_: torch.Tensor) -> int:
    """Bytes of activations one (point, MC sample) pair produces in a forward pass (measured)."""
    total = 0

    def count(_module, _inputs, output):
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel() * output.element_size()

    hooks = [m.register_forward_hook(count) for m in model.modules() if m is not model]
    try:
        with torch.inference_mode():
            model(x_1_, 1)
    finally:
        for hook in hooks:
            hook.remove()
    return max(total, 1)


@torch.inference_mode()
def predict_log_probs(
    model: BayesianModule,
    x_N_: torch.Tensor,
    k: int,
    *,
    chunk_size: int | None = None,
    memory_budget: int = 256 * 2**20,
    device: str | torch.device | None = None,
    progress: bool = True,
    desc: str = "predicting",
) -> torch.Tensor:
    """Log-probabilities ``log_probs_N_K_C`` (float32, on the CPU) of ``k`` MC-dropout samples.

    The points are predicted ``chunk_size`` at a time. The model is put in eval mode, so with
    consistent dropout all ``N`` points see the same ``k`` networks however they are chunked.
    Without ``chunk_size`` the chunk is sized so that its activations (``chunk_size * k`` forward
    passes) fit ``memory_budget`` bytes.
    """
    if x_N_.shape[0] == 0:
        raise ValueError("predict_log_probs got an empty input (N = 0)")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    if chunk_size is None:
        per_sample = _activation_bytes_per_sample(model, x_N_[:1].to(device))
        chunk_size = max(1, memory_budget // (per_sample * k))
    starts = range(0, x_N_.shape[0], chunk_size)
    chunks = []
    for start in tqdm(starts, desc=desc, disable=not progress, leave=False):
        x_B_ = x_N_[start : start + chunk_size].to(device, non_blocking=True)
        chunks.append(model(x_B_, k).float().cpu())
    return torch.cat(chunks)
