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

``BayesianModule.forward`` is the plain definition (``k`` passes after the deterministic part).
:meth:`BayesianModule.fast_forward`, used by :func:`predict_log_probs`, computes the same
log-probabilities with the same masks in a small multiple of one pass, by the algebra explained
next to each model. (This module is over 400 lines because each fast path sits next to the plain
definition it must match.)
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

    def _draw_mask(
        self, k: int, feature_shape: tuple[int, ...], device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        keep = torch.full((k, *feature_shape), 1.0 - self.p, device=device)
        return torch.bernoulli(keep).to(dtype) / (1.0 - self.p)

    def eval_mask(
        self, k: int, feature_shape: tuple[int, ...], device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        """The eval-mode mask ``mask_k_...`` of shape ``[k, *feature_shape]``, entries 0 or 1/(1-p).

        Consistent: drawn on first use for this ``k`` and then reused; otherwise fresh every call.
        The plain forward and the fast path both get their masks here, in layer order, so both
        draw the same masks from the same random-number calls.
        """
        if not self.consistent:
            return self._draw_mask(k, feature_shape, device, dtype)
        mask = self._masks.get(k)
        if mask is None or mask.device != device or mask.dtype != dtype:
            mask = self._masks[k] = self._draw_mask(k, feature_shape, device, dtype)
        return mask

    def forward(self, x_BK_: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0:
            return x_BK_
        if self.training:
            return self._train_dropout(x_BK_)
        k = self.k
        mask = self.eval_mask(k, self._mask_feature_shape(x_BK_), x_BK_.device, x_BK_.dtype)
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


def _max_pool2(a_N_C_H_W: torch.Tensor) -> torch.Tensor:
    """``F.max_pool2d(a, 2)`` (floor mode) as the maximum of four strided views: the same values,
    and several times faster than ``max_pool2d`` on the CPU for these small maps."""
    a = a_N_C_H_W[..., : a_N_C_H_W.shape[-2] // 2 * 2, : a_N_C_H_W.shape[-1] // 2 * 2]
    top = torch.maximum(a[..., ::2, ::2], a[..., ::2, 1::2])
    return torch.maximum(top, torch.maximum(a[..., 1::2, ::2], a[..., 1::2, 1::2]))


def _pooled_channel_partials(
    conv: nn.Conv2d, h_B_I_H_W: torch.Tensor, pooled_h: int, pooled_w: int
) -> torch.Tensor:
    """Per-input-channel partial convolutions ``partials_I_4_BSO``, no bias.

    ``partials[i, w, (b, s, o)] = (W[o, i] ⋆ h[b, i])`` at offset ``w`` of the 2x2 pooling window
    ``s`` (``pooled_h x pooled_w`` windows, top-left ones: floor pooling drops the rest), so that
    ``conv(m ⊙ h) = sum_i m[i] · partials[i] + bias`` for any per-channel mask ``m``.
    Computed as ``I`` products ``(4·B·S x kh·kw) @ (kh·kw x O)`` over unfolded patches.
    """
    B, I = h_B_I_H_W.shape[:2]
    O, _, kh, kw = conv.weight.shape
    h = h_B_I_H_W[..., : 2 * pooled_h + kh - 1, : 2 * pooled_w + kw - 1]
    patches = F.unfold(h, (kh, kw)).view(B, I, kh * kw, pooled_h, 2, pooled_w, 2)
    # -> [i, window offset (dy, dx), b, window (sy, sx), tap]: the rows of each product
    patches_I_R_T = patches.permute(1, 4, 6, 0, 3, 5, 2).reshape(I, -1, kh * kw)
    weight_I_T_O = conv.weight.permute(1, 2, 3, 0).reshape(I, kh * kw, O)
    return torch.bmm(patches_I_R_T, weight_I_T_O).view(I, 4, -1)


def _mix_pool_relu(
    partials_I_4_BSO: torch.Tensor, mask_K_I: torch.Tensor, bias_O: torch.Tensor
) -> torch.Tensor:
    """``relu(maxpool(conv(m_k ⊙ h)))`` for all ``k`` at once: ``g_K_BSO`` (channels last).

    Each window offset is one ``(K x I) @ (I x B·S·O)`` mixing product; the max-pool is the
    maximum over the four offsets, and the bias (constant over a window) is added after it.
    """
    z_K_BSO = mask_K_I @ partials_I_4_BSO[:, 0]
    for offset in range(1, 4):
        torch.maximum(z_K_BSO, mask_K_I @ partials_I_4_BSO[:, offset], out=z_K_BSO)
    z_K_BS_O = z_K_BSO.view(z_K_BSO.shape[0], -1, bias_O.shape[0])
    return z_K_BS_O.add_(bias_O).relu_().view(z_K_BSO.shape)


def _fast_mask(
    layer: _ConsistentMCDropout, k: int, features: int, like: torch.Tensor
) -> torch.Tensor:
    """``layer``'s eval mask as ``mask_k_F`` (ones when ``p = 0``: the plain path draws nothing)."""
    if layer.p == 0.0:
        return torch.ones(k, features, device=like.device, dtype=like.dtype)
    shape = (features, 1, 1) if isinstance(layer, ConsistentMCDropout2d) else (features,)
    return layer.eval_mask(k, shape, like.device, like.dtype).view(k, features)


class BayesianModule(nn.Module):
    """Base class: ``forward(x_B_..., k) -> log_probs_B_K_C``.

    Subclasses split their network in two: :meth:`deterministic_forward` (everything before the
    first dropout layer, computed once per input) and :meth:`mc_forward` (the rest, computed for
    the ``B * k`` expanded inputs; returns logits).  ``forward`` is the plain definition;
    :meth:`fast_forward` computes the same thing faster in eval mode with consistent masks,
    using the hooks :meth:`_fast_operands` and :meth:`_fast_logits` where a subclass has them.
    """

    # Working set of one CPU sub-batch of the fast path: small enough to stay in cache.
    fast_cache_bytes: int = 8 * 2**20

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

    def fast_forward(self, x_B_: torch.Tensor, k: int = 1) -> torch.Tensor:
        """``forward(x_B_, k)``, computed faster; the same masks and the same values up to rounding.

        In eval mode with consistent masks (prediction over a pool or test set) the subclass's
        exact fast path runs: the masks are drawn in the same order by the same calls as in
        ``forward``, then used algebraically (see the subclasses). On the CPU the batch is cut
        into sub-batches whose working set fits ``fast_cache_bytes``. Otherwise (training,
        inconsistent masks, no fast path) this is ``forward``.
        """
        if k < 1:
            raise ValueError(f"the number of MC samples k must be >= 1, got {k}")
        bytes_per_point = self.fast_path_bytes(k, x_B_)
        if bytes_per_point is None:
            return self(x_B_, k)
        operands = self._fast_operands(k, x_B_)
        B = x_B_.shape[0]
        sub = B
        if x_B_.device.type == "cpu":
            sub = max(1, self.fast_cache_bytes // bytes_per_point)
        logits_K_B_C = torch.cat(
            [self._fast_logits(x_B_[i : i + sub], operands) for i in range(0, B, sub)], dim=1
        )
        return F.log_softmax(logits_K_B_C, dim=-1).transpose(0, 1).contiguous()

    def fast_path_bytes(self, k: int, x_B_: torch.Tensor) -> int | None:
        """Bytes of :meth:`fast_forward`'s temporaries per point of ``x_B_``, or ``None`` when it
        falls back to ``forward`` (training mode, inconsistent masks, or no fast path)."""
        consistent = all(layer.consistent for layer in self.mc_dropout_layers())
        if self.training or not consistent:
            return None
        return self._fast_bytes_per_point(k, x_B_)

    def _fast_bytes_per_point(self, k: int, x_B_: torch.Tensor) -> int | None:
        return None  # no fast path unless a subclass has one

    def _fast_operands(self, k: int, x_B_: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The ``k`` masks of every dropout layer, in forward order, and re-laid weights."""
        raise NotImplementedError

    def _fast_logits(self, x_B_: torch.Tensor, operands: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Logits ``logits_K_B_C`` of all ``k`` samples (sample-major)."""
        raise NotImplementedError


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

    # Fast path. A dropout2d mask m >= 0 is constant per channel, so it commutes with max-pool
    # and relu: relu(pool(m ⊙ a)) = m ⊙ relu(pool(a)), computed once per input. conv2 is linear
    # in its input channels: conv2(m_k ⊙ h) = sum_i m_k[i] · (W[:, i] ⋆ h[i]) + bias, so the 32
    # partial convolutions are computed once per input and mixed by one (K x 32) product.
    # From there on (dropout2d, pool, relu, fc1, dropout, fc2) the work is per sample.

    def _fast_pooled_side(self, side: int) -> int:
        """The side of conv2's pooled output for an input side (4 for 28)."""
        side = (side - self.conv1.kernel_size[0] + 1) // 2
        return (side - self.conv2.kernel_size[0] + 1) // 2

    def _fast_bytes_per_point(self, k: int, x_B_: torch.Tensor) -> int:
        windows = self._fast_pooled_side(x_B_.shape[-2]) * self._fast_pooled_side(x_B_.shape[-1])
        in_ch, out_ch = self.conv2.in_channels, self.conv2.out_channels
        floats = (4 * in_ch + 2 * k) * windows * out_ch  # partials + two mixed maps
        return floats * x_B_.element_size()

    def _fast_operands(self, k: int, x_B_: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out_ch = self.conv2.out_channels
        mask1_K_I = _fast_mask(self.conv1_drop, k, self.conv1.out_channels, x_B_)
        mask2_K_O = _fast_mask(self.conv2_drop, k, out_ch, x_B_)
        mask3_K_F = _fast_mask(self.fc1_drop, k, self.fc1.out_features, x_B_)
        # fc1 reads (channel, position); the mixed maps are (position, channel): permute fc1.
        fc1_weight = self.fc1.weight.view(self.fc1.out_features, out_ch, -1).transpose(1, 2)
        return mask1_K_I, mask2_K_O, mask3_K_F, fc1_weight.reshape(self.fc1.weight.shape)

    def _fast_logits(
        self, x_B_1_H_W: torch.Tensor, operands: tuple[torch.Tensor, ...]
    ) -> torch.Tensor:
        mask1_K_I, mask2_K_O, mask3_K_F, fc1_weight = operands
        K, B, O = mask1_K_I.shape[0], x_B_1_H_W.shape[0], mask2_K_O.shape[1]
        h_B_I_12_12 = F.relu(_max_pool2(self.conv1(x_B_1_H_W)))
        pooled_h, pooled_w = (self._fast_pooled_side(n) for n in x_B_1_H_W.shape[-2:])
        partials = _pooled_channel_partials(self.conv2, h_B_I_12_12, pooled_h, pooled_w)
        g_K_B_S_O = _mix_pool_relu(partials, mask1_K_I, self.conv2.bias).view(K, B, -1, O)
        g_K_B_S_O.mul_(mask2_K_O[:, None, None, :])
        h_K_B_F = F.linear(g_K_B_S_O.flatten(2), fc1_weight, self.fc1.bias)
        h_K_B_F = h_K_B_F.mul_(mask3_K_F[:, None, :]).relu_()
        return self.fc2(h_K_B_F)


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

    # Fast path. As in the MNIST model, drop1 commutes with pool and relu, and conv2 is computed
    # once per input as 32 partial convolutions mixed by one (K x 32) product; conv3's input
    # differs per sample, so conv3, fc1 and fc2 stay per sample. Floor max-pooling drops the
    # last row/column of an odd map, so only the top-left 22x22 pixels reach the output (conv3
    # reads 4x4 of its 5x5 input, conv2's pool 8x8 of its 11x11 outputs, conv1's pool 20x20 of
    # its 26x26): the fast path computes only those.

    def _fast_sides(self, side: int) -> tuple[int, int, int]:
        """The sides of x, of conv2's input and of conv3's input that reach the output."""
        convs = (self.conv1, self.conv2, self.conv3)
        for conv in convs:
            side = (side - conv.kernel_size[0] + 1) // 2
        read = []
        for conv in reversed(convs):
            side = 2 * side + conv.kernel_size[0] - 1
            read.append(side)
        return read[2], read[1], read[0]

    def _fast_bytes_per_point(self, k: int, x_B_: torch.Tensor) -> int:
        windows = self._fast_sides(x_B_.shape[-1])[2] ** 2
        in_ch, out_ch = self.conv2.in_channels, self.conv2.out_channels
        floats = (4 * in_ch + 3 * k) * windows * out_ch + 4 * k * self.conv3.out_channels
        return floats * x_B_.element_size()

    def _fast_operands(self, k: int, x_B_: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return (
            _fast_mask(self.conv1_drop, k, self.conv1.out_channels, x_B_),
            _fast_mask(self.conv2_drop, k, self.conv2.out_channels, x_B_),
            _fast_mask(self.conv3_drop, k, self.conv3.out_channels, x_B_),
            _fast_mask(self.fc1_drop, k, self.fc1.out_features, x_B_),
        )

    def _fast_logits(
        self, x_B_1_H_W: torch.Tensor, operands: tuple[torch.Tensor, ...]
    ) -> torch.Tensor:
        mask1_K_I, mask2_K_O, mask3_K_P, mask4_K_F = operands
        K, B = mask1_K_I.shape[0], x_B_1_H_W.shape[0]
        x_h, _, conv3_h = self._fast_sides(x_B_1_H_W.shape[-2])
        x_w, _, conv3_w = self._fast_sides(x_B_1_H_W.shape[-1])
        h_B_I_10_10 = F.relu(_max_pool2(self.conv1(x_B_1_H_W[..., :x_h, :x_w])))
        partials = _pooled_channel_partials(self.conv2, h_B_I_10_10, conv3_h, conv3_w)
        g_KB_4_4_O = _mix_pool_relu(partials, mask1_K_I, self.conv2.bias).view(
            K, B, conv3_h, conv3_w, -1
        )
        g_KB_4_4_O = g_KB_4_4_O.mul_(mask2_K_O[:, None, None, None, :]).flatten(0, 1)
        z_KB_P_2_2 = F.conv2d(g_KB_4_4_O.permute(0, 3, 1, 2), self.conv3.weight)
        h_KB_P_1_1 = _max_pool2(z_KB_P_2_2).add_(self.conv3.bias[:, None, None]).relu_()
        h_K_B_P = h_KB_P_1_1.view(K, B, -1)
        h_K_B_P = h_K_B_P.mul_(mask3_K_P[:, None, :])
        h_K_B_F = self.fc1(h_K_B_P).mul_(mask4_K_F[:, None, :]).relu_()
        return self.fc2(h_K_B_F)


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
    fast: bool = True,
) -> torch.Tensor:
    """Log-probabilities ``log_probs_N_K_C`` (float32, on the CPU) of ``k`` MC-dropout samples.

    The points are predicted ``chunk_size`` at a time. The model is put in eval mode, so with
    consistent dropout all ``N`` points see the same ``k`` networks however they are chunked.
    Without ``chunk_size`` the chunk is sized so that its activations (``chunk_size * k`` forward
    passes) fit ``memory_budget`` bytes. ``fast`` (default) uses :meth:`BayesianModule.fast_forward`
    (same masks, same values up to float rounding); ``fast=False`` the plain K-pass ``forward``.
    """
    if x_N_.shape[0] == 0:
        raise ValueError("predict_log_probs got an empty input (N = 0)")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    if chunk_size is None:
        x_1_ = x_N_[:1].to(device)
        per_sample = _activation_bytes_per_sample(model, x_1_)
        fast_bytes = model.fast_path_bytes(k, x_1_) if fast else None
        # The fast path keeps the deterministic activations once, plus its own temporaries.
        per_point = per_sample * k if fast_bytes is None else per_sample + fast_bytes
        chunk_size = max(1, memory_budget // per_point)
    starts = range(0, x_N_.shape[0], chunk_size)
    chunks = []
    for start in tqdm(starts, desc=desc, disable=not progress, leave=False):
        x_B_ = x_N_[start : start + chunk_size].to(device, non_blocking=True)
        log_probs_B_K_C = model.fast_forward(x_B_, k) if fast else model(x_B_, k)
        chunks.append(log_probs_B_K_C.float().cpu())
    return torch.cat(chunks)
