"""Every exercise check passes a reference solution and fails, with the right hint, on realistic
wrong ones. The reference solutions here are written independently of the package's code."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch

from bbal_tutorial import exercises, information
from bbal_tutorial.exercises import diagrams as ex_diagrams
from bbal_tutorial.exercises import duplicates as ex_duplicates
from bbal_tutorial.exercises import questions as ex_questions

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


# --------------------------------------------------------------------------------------------------
# reference solutions (what a student should write)


def predictive_entropy(log_probs_N_K_C):
    probs_N_C = log_probs_N_K_C.double().exp().mean(dim=1)
    return torch.special.entr(probs_N_C).sum(dim=1)


def expected_conditional_entropy(log_probs_N_K_C):
    return torch.special.entr(log_probs_N_K_C.double().exp()).sum(dim=2).mean(dim=1)


def bald(log_probs_N_K_C):
    return predictive_entropy(log_probs_N_K_C) - expected_conditional_entropy(log_probs_N_K_C)


def joint_entropy_two_points(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_C_C = torch.einsum("ka,kb->ab", probs_2_K_C[0], probs_2_K_C[1]) / probs_2_K_C.shape[1]
    return float(torch.special.entr(joint_C_C).sum())


def _joint_entropy(log_probs_n_K_C):
    """Exact joint entropy of n points by enumerating configurations (test helper)."""
    probs_n_K_C = log_probs_n_K_C.double().exp()
    K = probs_n_K_C.shape[1]
    joint_K_M = torch.ones(K, 1, dtype=torch.float64)
    for probs_K_C in probs_n_K_C:
        joint_K_M = (joint_K_M[:, :, None] * probs_K_C[:, None, :]).reshape(K, -1)
    return float(torch.special.entr(joint_K_M.mean(dim=0)).sum())


def batchbald_greedy_step(log_probs_N_K_C, chosen):
    conditional_N = expected_conditional_entropy(log_probs_N_K_C)
    best, best_score = None, -math.inf
    for n in range(log_probs_N_K_C.shape[0]):
        if n in chosen:
            continue
        batch = [*chosen, n]
        score = _joint_entropy(log_probs_N_K_C[batch]) - float(conditional_N[batch].sum())
        if score > best_score + 1e-12:
            best, best_score = n, score
    return best


def make_consistent_dropout(num_features, k, p, generator):
    keep_K_F = torch.full((k, num_features), 1.0 - p, dtype=torch.float64)
    masks_K_F = torch.bernoulli(keep_K_F, generator=generator) / (1.0 - p)

    def dropout(h_B_F):
        return h_B_F[:, None, :] * masks_K_F.to(h_B_F.dtype)

    return dropout


def power_acquisition(scores_N, acquisition_size, coldness, generator):
    uniform_N = torch.rand(scores_N.shape, generator=generator, dtype=torch.float64)
    gumbel_N = -torch.log(-torch.log(uniform_N))
    keys_N = coldness * scores_N.double().log() + gumbel_N
    return torch.topk(keys_N, acquisition_size).indices.tolist()


def power_acquisition_multinomial(scores_N, acquisition_size, coldness, generator):
    """Sequential sampling without replacement: also correct (for moderate coldness it works)."""
    weights_N = (coldness * scores_N.double().log()).softmax(dim=0)
    return torch.multinomial(weights_N, acquisition_size, generator=generator).tolist()


def labels_to_reach(labels, accuracies, target):
    for n, accuracy in zip(labels, accuracies, strict=True):
        if accuracy >= target:
            return n
    return None


def acquired_label_entropy(labels, num_classes):
    counts = torch.bincount(torch.tensor(labels), minlength=num_classes).double()
    return float(torch.special.entr(counts / counts.sum()).sum())


# --------------------------------------------------------------------------------------------------
# wrong solutions, each with the words its hint must contain


def entropy_of_mean_log(log_probs_N_K_C):  # forgot 0 log 0: NaN for zero probabilities
    probs_N_C = log_probs_N_K_C.double().exp().mean(dim=1)
    return -(probs_N_C * probs_N_C.log()).sum(dim=1)


def entropy_without_log_k(log_probs_N_K_C):  # logsumexp without - log K in the log
    lp = log_probs_N_K_C.double()
    probs_N_C = lp.exp().mean(dim=1)
    p_log_p_N_C = torch.where(probs_N_C > 0, probs_N_C * torch.logsumexp(lp, dim=1), 0.0)
    return -p_log_p_N_C.sum(dim=1)


def entropy_summed_over_k(log_probs_N_K_C):  # forgot the mean over K
    return torch.special.entr(log_probs_N_K_C.double().exp().sum(dim=1)).sum(dim=1)


def entropy_float32(log_probs_N_K_C):
    return torch.special.entr(log_probs_N_K_C.float().exp().mean(dim=1)).sum(dim=1)


def entropy_wrong_shape(log_probs_N_K_C):
    return torch.special.entr(log_probs_N_K_C.double().exp().mean(dim=1))


def entropy_mean_of_entropies(log_probs_N_K_C):
    return expected_conditional_entropy(log_probs_N_K_C)


def entropy_bits(log_probs_N_K_C):
    return predictive_entropy(log_probs_N_K_C) / math.log(2)


ENTROPY_WRONG = [
    (entropy_of_mean_log, "0 · log 0"),
    (entropy_without_log_k, "off by log K"),
    (entropy_summed_over_k, "forgot the mean over K"),
    (entropy_float32, "float64"),
    (entropy_wrong_shape, "shape"),
    (entropy_mean_of_entropies, "E_w H[y|w]"),
    (entropy_bits, "bits"),
]


def bald_sign_flipped(log_probs_N_K_C):
    return -bald(log_probs_N_K_C)


def bald_is_entropy(log_probs_N_K_C):
    return predictive_entropy(log_probs_N_K_C)


def bald_sum_over_k(log_probs_N_K_C):  # the second term summed over K instead of averaged
    K = log_probs_N_K_C.shape[1]
    return predictive_entropy(log_probs_N_K_C) - K * expected_conditional_entropy(log_probs_N_K_C)


def bald_off_by_log_k(log_probs_N_K_C):
    return entropy_without_log_k(log_probs_N_K_C) - expected_conditional_entropy(log_probs_N_K_C)


def bald_nan(log_probs_N_K_C):
    lp = log_probs_N_K_C.double()
    conditional_N = -(lp.exp() * lp).sum(dim=2).mean(dim=1)
    return predictive_entropy(lp) - conditional_N


BALD_WRONG = [
    (bald_sign_flipped, "wrong sign"),
    (bald_is_entropy, "predictive entropy H[y] alone"),
    (bald_sum_over_k, "sums the K samples' entropies"),
    (bald_off_by_log_k, "off by log K"),
    (bald_nan, "NaN"),
    (lambda lp: bald(lp).float(), "float64"),
    (lambda lp: bald(lp)[None], "shape"),
]


def joint_as_independent(log_probs_2_K_C):
    return float(predictive_entropy(log_probs_2_K_C).sum())


def joint_entropy_inside_mean(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_K_C_C = probs_2_K_C[0][:, :, None] * probs_2_K_C[1][:, None, :]
    return float(torch.special.entr(joint_K_C_C).sum(dim=(1, 2)).mean())


def joint_nan(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_C_C = torch.einsum("ka,kb->ab", probs_2_K_C[0], probs_2_K_C[1]) / probs_2_K_C.shape[1]
    return float(-(joint_C_C * joint_C_C.log()).sum())


def joint_summed_over_k(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_C_C = torch.einsum("ka,kb->ab", probs_2_K_C[0], probs_2_K_C[1])
    return float(torch.special.entr(joint_C_C).sum())


def joint_not_scalar(log_probs_2_K_C):
    probs_2_K_C = log_probs_2_K_C.double().exp()
    joint_C_C = torch.einsum("ka,kb->ab", probs_2_K_C[0], probs_2_K_C[1]) / probs_2_K_C.shape[1]
    return torch.special.entr(joint_C_C).sum(dim=1)


JOINT_WRONG = [
    (joint_as_independent, "H[y1] + H[y2]"),
    (joint_entropy_inside_mean, "E_w H[y1, y2 | w]"),
    (joint_nan, "NaN"),
    (joint_summed_over_k, "forgot the mean over K"),
    (joint_not_scalar, "one number"),
]


def greedy_by_bald(log_probs_N_K_C, chosen):
    scores_N = bald(log_probs_N_K_C)
    scores_N[list(chosen)] = -math.inf
    return int(scores_N.argmax())


def greedy_max_joint_entropy(log_probs_N_K_C, chosen):
    scores = {
        n: _joint_entropy(log_probs_N_K_C[[*chosen, n]])
        for n in range(log_probs_N_K_C.shape[0])
        if n not in chosen
    }
    return max(scores, key=scores.get)


def greedy_including_chosen(log_probs_N_K_C, chosen):
    conditional_N = expected_conditional_entropy(log_probs_N_K_C)
    scores = [
        _joint_entropy(log_probs_N_K_C[[*chosen, n]]) - float(conditional_N[[*chosen, n]].sum())
        for n in range(log_probs_N_K_C.shape[0])
    ]
    return max(range(len(scores)), key=scores.__getitem__)


def greedy_last_of_ties(log_probs_N_K_C, chosen):
    conditional_N = expected_conditional_entropy(log_probs_N_K_C)
    best, best_score = None, -math.inf
    for n in range(log_probs_N_K_C.shape[0]):
        if n in chosen:
            continue
        score = _joint_entropy(log_probs_N_K_C[[*chosen, n]]) - float(
            conditional_N[[*chosen, n]].sum()
        )
        if score >= best_score - 1e-12:
            best, best_score = n, score
    return best


GREEDY_WRONG = [
    (greedy_by_bald, "best individual BALD score"),
    (greedy_max_joint_entropy, "largest joint entropy"),
    (greedy_including_chosen, "already chosen"),
    (greedy_last_of_ties, "lowest index"),
    (lambda lp, chosen: [batchbald_greedy_step(lp, chosen)], "return one pool index"),
]


def dropout_redrawn_per_call(num_features, k, p, generator):
    def dropout(h_B_F):
        keep = torch.full((k, num_features), 1.0 - p, dtype=h_B_F.dtype)
        return h_B_F[:, None, :] * torch.bernoulli(keep, generator=generator) / (1.0 - p)

    return dropout


def dropout_per_point(num_features, k, p, generator):
    def dropout(h_B_F):
        keep = torch.full((h_B_F.shape[0], k, num_features), 1.0 - p, dtype=h_B_F.dtype)
        return h_B_F[:, None, :] * torch.bernoulli(keep, generator=generator) / (1.0 - p)

    return dropout


def dropout_one_mask(num_features, k, p, generator):
    keep = torch.full((1, num_features), 1.0 - p, dtype=torch.float64)
    mask_1_F = torch.bernoulli(keep, generator=generator) / (1.0 - p)
    return lambda h_B_F: h_B_F[:, None, :] * mask_1_F.expand(k, num_features)


def dropout_unscaled(num_features, k, p, generator):
    keep = torch.full((k, num_features), 1.0 - p, dtype=torch.float64)
    masks_K_F = torch.bernoulli(keep, generator=generator)
    return lambda h_B_F: h_B_F[:, None, :] * masks_K_F


def dropout_p_is_keep(num_features, k, p, generator):  # keeps with probability p
    keep = torch.full((k, num_features), p, dtype=torch.float64)
    masks_K_F = torch.bernoulli(keep, generator=generator) / (1.0 - p) if p < 1 else keep
    return lambda h_B_F: h_B_F[:, None, :] * masks_K_F


def dropout_global_rng(num_features, k, p, generator):
    keep = torch.full((k, num_features), 1.0 - p, dtype=torch.float64)
    masks_K_F = torch.bernoulli(keep) / (1.0 - p)
    return lambda h_B_F: h_B_F[:, None, :] * masks_K_F


def dropout_flat(num_features, k, p, generator):
    dropout = make_consistent_dropout(num_features, k, p, generator)
    return lambda h_B_F: dropout(h_B_F).flatten(0, 1)


MASK_WRONG = [
    (dropout_redrawn_per_call, "redrawn on every call"),
    (dropout_per_point, "different points got different masks"),
    (dropout_one_mask, "same mask"),
    (dropout_unscaled, "1/(1-p)"),
    (dropout_p_is_keep, "should be kept"),
    (dropout_global_rng, "generator"),
    (dropout_flat, "flattened"),
]


def power_top_b(scores_N, acquisition_size, coldness, generator):
    return torch.topk(scores_N, acquisition_size).indices.tolist()


def power_softmax(scores_N, acquisition_size, coldness, generator):
    return _gumbel(coldness * scores_N, acquisition_size, generator)


def _gumbel(log_weights_N, acquisition_size, generator):
    uniform_N = torch.rand(log_weights_N.shape, generator=generator, dtype=torch.float64)
    return torch.topk(
        log_weights_N - torch.log(-torch.log(uniform_N)), acquisition_size
    ).indices.tolist()


def power_ignores_coldness(scores_N, acquisition_size, coldness, generator):
    return _gumbel(scores_N.log(), acquisition_size, generator)


def power_with_replacement(scores_N, acquisition_size, coldness, generator):
    weights_N = scores_N**coldness
    return torch.multinomial(
        weights_N, acquisition_size, replacement=True, generator=generator
    ).tolist()


def power_underflows(scores_N, acquisition_size, coldness, generator):
    weights_N = scores_N.float() ** coldness
    return torch.multinomial(weights_N, acquisition_size, generator=generator).tolist()


def power_global_rng(scores_N, acquisition_size, coldness, generator):
    return _gumbel(coldness * scores_N.log(), acquisition_size, None)


def power_uniform(scores_N, acquisition_size, coldness, generator):
    return torch.randperm(len(scores_N), generator=generator)[:acquisition_size].tolist()


POWER_WRONG = [
    (power_top_b, "frequencies"),
    (power_softmax, "softmax"),
    (power_ignores_coldness, "coldness is ignored"),
    (power_with_replacement, "without replacement"),
    (power_underflows, "underflow"),
    (power_global_rng, "generator"),
    (power_uniform, "frequencies"),
]

LABELS_WRONG = [
    (
        lambda labels, acc, t: next((i for i, a in enumerate(acc) if a >= t), None),
        "position in the list",
    ),
    (
        lambda labels, acc, t: next((n for n, a in zip(labels, acc, strict=True) if a > t), None),
        "use >=",
    ),
    (
        lambda labels, acc, t: ([n for n, a in zip(labels, acc, strict=True) if a >= t] or [None])[
            -1
        ],
        "last round",
    ),
    (
        lambda labels, acc, t: next((n for n, a in zip(labels, acc, strict=True) if a >= t), -1),
        "None",
    ),
    (
        lambda labels, acc, t: next((a for n, a in zip(labels, acc, strict=True) if a >= t), None),
        "accuracy",
    ),
]


def label_entropy_nan(labels, num_classes):
    counts = torch.bincount(torch.tensor(labels), minlength=num_classes).double()
    q = counts / counts.sum()
    return float(-(q * q.log()).sum())


LABEL_ENTROPY_WRONG = [
    (label_entropy_nan, "NaN"),
    (lambda labels, c: acquired_label_entropy(labels, c) / math.log(2), "bits"),
    (lambda labels, c: acquired_label_entropy(labels, c) / math.log(c), "normalised by log C"),
    (
        lambda labels, c: float(
            torch.special.entr(torch.bincount(torch.tensor(labels), minlength=c) / c).sum()
        ),
        "not by the number of classes",
    ),
    (lambda labels, c: torch.tensor([acquired_label_entropy(labels, c)] * 2), "one number"),
]

CHECKS = [
    (exercises.check_predictive_entropy, predictive_entropy, ENTROPY_WRONG),
    (exercises.check_bald, bald, BALD_WRONG),
    (exercises.check_joint_entropy_two_points, joint_entropy_two_points, JOINT_WRONG),
    (exercises.check_batchbald_greedy_step, batchbald_greedy_step, GREEDY_WRONG),
    (exercises.check_consistent_masks, make_consistent_dropout, MASK_WRONG),
    (exercises.check_power_acquisition, power_acquisition, POWER_WRONG),
    (exercises.check_labels_to_reach, labels_to_reach, LABELS_WRONG),
    (exercises.check_acquired_label_entropy, acquired_label_entropy, LABEL_ENTROPY_WRONG),
]
CHECK_IDS = [check.__name__ for check, _, _ in CHECKS]

WRONG = [
    pytest.param(check, wrong, hint, id=f"{check.__name__}-{getattr(wrong, '__name__', i)}-{i}")
    for check, _, wrongs in CHECKS
    for i, (wrong, hint) in enumerate(wrongs)
]


# --------------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("check, solution", [c[:2] for c in CHECKS], ids=CHECK_IDS)
def test_reference_solution_passes(check, solution, capsys):
    assert check(solution) is True
    assert capsys.readouterr().out.startswith("✓ ")
    assert check(solution, strict=True) is None  # nothing for nbgrader to read as a score


@pytest.mark.parametrize("check, wrong, hint", WRONG)
def test_wrong_solution_fails_with_its_hint(check, wrong, hint, capsys):
    assert check(wrong) is False
    printed = capsys.readouterr().out
    assert printed.startswith("✗ ") and printed.count("\n") == 1, printed
    assert hint in printed, printed
    with pytest.raises(AssertionError, match=re.escape(hint)):
        check(wrong, strict=True)


def test_sequential_sampling_without_replacement_also_passes(capsys):
    """torch.multinomial without replacement draws the same distribution as Gumbel-top-k."""
    assert exercises.check_power_acquisition(power_acquisition_multinomial) is True


@pytest.mark.parametrize("check", [c[0] for c in CHECKS], ids=CHECK_IDS)
def test_not_implemented_propagates(check):
    def not_done(*args):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check(not_done)


def test_other_exceptions_become_hints(capsys):
    def broken(log_probs_N_K_C):
        raise IndexError("index 3 is out of bounds")

    assert exercises.check_bald(broken) is False
    assert "your function raised IndexError" in capsys.readouterr().out


def test_check_does_not_mutate_shared_inputs():
    """A student's in-place edit must not change the known answers of later calls."""

    def in_place(log_probs_N_K_C):
        result = bald(log_probs_N_K_C)
        log_probs_N_K_C.zero_()
        return result

    assert exercises.check_bald(in_place) is True


def test_hand_made_answers_agree_with_the_package():
    """The hand-derived known answers agree with the package's own tested functions."""
    for log_probs, expected in zip(
        [case[1] for case in ex_diagrams._per_point_cases()],
        [
            [math.log(2), 0.6108643020548935, 0.0, math.log(2)],
            [math.log(4), math.log(3)],
            [1.0296530140645737, 0.0],
        ],
        strict=True,
    ):
        assert torch.allclose(information.entropy(log_probs), torch.tensor(expected).double())
    for _, log_probs, expected in ex_diagrams._joint_cases():
        assert float(information.joint_entropy_exact(log_probs)) == pytest.approx(expected)


def test_greedy_cases_have_clear_winners():
    """Apart from the deliberate tie of identical points, the best candidate of every greedy case
    beats the runner-up by far more than rounding, so any correct float64 solution agrees."""
    for name, log_probs, chosen in ex_duplicates._greedy_cases():
        gains = sorted(ex_duplicates._greedy_gains(log_probs, chosen).values(), reverse=True)
        if "tie" in name or "hand-made" in name:  # exact ties of 0/1 and 0.5 probabilities only
            assert gains[0] == gains[1] or gains[0] - gains[1] > 0.5
        else:
            assert gains[0] - gains[1] > 1e-3, (name, chosen, gains[:2])


# --------------------------------------------------------------------------------------------------
# multiple-choice questions


def test_choice_right_wrong_and_unanswered(capsys):
    q = exercises.QUESTIONS["02-log-k-ceiling"]
    wrong = next(label for label in q.options if label != q.correct)
    assert exercises.check_choice("02-log-k-ceiling", q.correct) is True
    assert capsys.readouterr().out.startswith(f"✓ question 02-log-k-ceiling: ({q.correct})")
    assert exercises.check_choice("02-log-k-ceiling", f" ({q.correct.upper()}) ") is True
    assert exercises.check_choice("02-log-k-ceiling", q.correct, strict=True) is None
    assert exercises.check_choice("02-log-k-ceiling", wrong) is False
    assert q.hints[wrong] in capsys.readouterr().out
    assert exercises.check_choice("02-log-k-ceiling", "z") is False
    with pytest.raises(AssertionError, match="not"):
        exercises.check_choice("02-log-k-ceiling", wrong, strict=True)
    with pytest.raises(NotImplementedError):
        exercises.check_choice("02-log-k-ceiling", None)
    with pytest.raises(KeyError, match="no question"):
        exercises.check_choice("99-missing", "a")


def test_question_validates_itself():
    with pytest.raises(ValueError, match="correct"):
        ex_questions.Question(prompt="?", options={"a": "x"}, correct="b")
    with pytest.raises(ValueError, match="hints"):
        ex_questions.Question(prompt="?", options={"a": "x"}, correct="a", hints={"c": "no"})
    assert "(a) x" in ex_questions.Question(prompt="?", options={"a": "x"}, correct="a").text()


def test_every_question_has_hints_for_every_option():
    for key, q in exercises.QUESTIONS.items():
        assert re.fullmatch(r"\d\d-[a-z0-9-]+", key), key
        assert set(q.hints) == set(q.options), key


def _notebook_sources():
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        yield path, ["".join(cell["source"]) for cell in cells]


def test_notebooks_only_ask_registered_questions():
    used = set()
    for path, sources in _notebook_sources():
        for source in sources:
            for key in re.findall(r"check_choice\(\s*\"([^\"]+)\"", source):
                assert key in exercises.QUESTIONS, f"{path.name} asks unregistered {key!r}"
                used.add(key)
    assert {"00-one-sample", "02-log-k-ceiling", "03-independent-masks"} <= used


def test_notebook_questions_show_the_registered_options():
    """The options a notebook prints in its markdown are the registered ones, word for word."""
    for path, sources in _notebook_sources():
        text = "\n".join(sources)
        for key in set(re.findall(r"check_choice\(\s*\"([^\"]+)\"", text)):
            if key[:2] not in ("00", "01", "02", "03"):
                continue  # the later notebooks' authors format their questions themselves
            for label, option in exercises.QUESTIONS[key].options.items():
                assert f"({label}) {option}" in " ".join(text.split()), (path.name, key, label)
