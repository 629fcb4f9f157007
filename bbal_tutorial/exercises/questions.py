"""The multiple-choice questions of the notebooks ("interpret this figure"), keyed
``"<notebook>-<topic>"``, and :func:`check_choice`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bbal_tutorial.exercises._checks import _MismatchError, _report


@dataclass
class Question:
    """A multiple-choice question about a figure or result.

    ``options`` maps a short label (``"a"``, ``"b"``, ...) to its text; ``correct`` is the label
    of the right option; ``hints`` maps labels to what is printed when that option is chosen
    (for the correct one: the explanation; for the others: why not, without giving the answer).
    """

    prompt: str
    options: dict[str, str]
    correct: str
    hints: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.correct not in self.options:
            raise ValueError(f"correct = {self.correct!r} is not one of {list(self.options)}")
        unknown = set(self.hints) - set(self.options)
        if unknown:
            raise ValueError(f"hints for options {sorted(unknown)} that do not exist")

    def text(self) -> str:
        """The prompt and its options, one per line."""
        lines = [self.prompt] + [f"  ({label}) {text}" for label, text in self.options.items()]
        return "\n".join(lines)


def _normalise_choice(answer: str) -> str:
    return answer.strip().strip("()[].").strip().lower()


def check_choice(question: str, answer: str | None, *, strict: bool = False) -> bool | None:
    """Check a multiple-choice ``answer`` (e.g. ``"b"``) to ``QUESTIONS[question]``.

    Prints the explanation when right, the hint for the chosen option when wrong. An answer of
    ``None`` (not answered yet) raises ``NotImplementedError``.
    """
    if question not in QUESTIONS:
        raise KeyError(f"no question {question!r}; registered: {sorted(QUESTIONS)}")
    q = QUESTIONS[question]
    labels = ", ".join(repr(label) for label in q.options)
    if answer is None:
        raise NotImplementedError(f"no answer yet: set it to one of {labels}")

    def run() -> str:
        if not isinstance(answer, str) or _normalise_choice(answer) not in q.options:
            raise _MismatchError(f"answer with one of {labels}, got {answer!r}")
        choice = _normalise_choice(answer)
        if choice != q.correct:
            raise _MismatchError(
                f"not ({choice}). {q.hints.get(choice, 'Look at the figure again.')}"
            )
        return f"({choice}) is right. {q.hints.get(choice, '')}".strip()

    return _report(f"question {question}", run, strict)


#: Every multiple-choice question of the course, keyed ``"<notebook>-<topic>"``. Notebooks
#: append their own entries at the end of this module.
QUESTIONS: dict[str, Question] = {}


QUESTIONS["00-one-sample"] = Question(
    prompt=(
        "Set the slider to K = 1: the line reads H[w] = log K = 0.00 nats. What does that mean "
        "for active learning with a model that has a single posterior sample?"
    ),
    options={
        "a": "Every label is very informative: the single sample is certain of its predictions, "
        "so each label confirms or refutes the only network we have.",
        "b": "BALD reduces to the predictive entropy, because E_w H[y|w] is 0 with one sample, so "
        "the most uncertain pool points are the best ones.",
        "c": "No label can tell us anything about the parameters: BALD is 0 for every pool "
        "point, whatever the model predicts.",
        "d": "Nothing changes: K only sets how many forward passes each score costs, so the "
        "ranking of the pool points stays the same.",
    },
    correct="c",
    hints={
        "a": "H[w] is not about how confident the predictions are: it measures how uncertain we "
        "are about which network is the true one. With one network, what is left to confirm or "
        "refute?",
        "b": "E_w H[y|w] is the single sample's own entropy, which is 0 only where that sample is "
        "certain. With K = 1, H[y] and E_w H[y|w] are the same number: what is their difference?",
        "c": "Any label gives at most H[w] = log K nats about w, and log 1 = 0. (With K = 1 the "
        "prediction is that one network's, so H[y] = E_w H[y|w] and their difference, BALD, "
        "is 0.)",
        "d": "K is how many networks the model considers possible; H[w] = log K caps what any "
        "label can teach about them. With K = 1, what is every point's score, and what ranking "
        "is left?",
    },
)


QUESTIONS["02-log-k-ceiling"] = Question(
    prompt=(
        "In the log K ceiling panel, the K = 3 curve stops rising at about 1.1 nats after a few "
        "picks, while the curves for larger K keep climbing. Why does the K = 3 curve flatten?"
    ),
    options={
        "a": "With K samples the posterior is uniform over K networks, so no batch can tell more "
        "than H[w] = log 3 ≈ 1.10 nats about w; once the labels would identify the network, "
        "further picks gain nothing.",
        "b": "The pool runs out of informative digits after a few picks: the candidates that are "
        "left all have low BALD scores, so every further pick adds only a little information "
        "about w.",
        "c": "The sampled joint-entropy estimator is biased downwards for large batches: once "
        "C^b exceeds the sample budget it underestimates H[y_1..y_b], and the score stalls at "
        "about 1.1 nats.",
        "d": "Submodularity: the greedy gains shrink with every pick, so every greedy curve "
        "flattens at the same height of about 1.1 nats, whatever the number of posterior "
        "samples K; a larger K only delays it.",
    },
    correct="a",
    hints={
        "a": "I[y_1..y_b; w] <= H[w] = log K: the dashed line. Past it, picks are decided by "
        "ties and estimator noise, which is why so many repeat a digit; more samples raise the "
        "ceiling.",
        "b": "The pool is the same for every K, and with more samples the curves keep finding "
        "informative points in it. Where does the limit come from, then?",
        "c": "The estimator is unbiased (section 4), and while C^i is within the sample budget "
        "the score is exact -- yet the exact part of the curve flattens too.",
        "d": "Submodularity means diminishing gains, not a common height: look at where each "
        "curve flattens, and compare with its dashed line.",
    },
)


QUESTIONS["03-independent-masks"] = Question(
    prompt=(
        "With independent masks (bottom right of the score-spread figure), BatchBALD can pick a "
        "red candidate -- a copy of a digit already in the batch -- which it avoids with "
        "consistent masks. Why?"
    ),
    options={
        "a": "The copies really are the most informative next points: a second label of a digit "
        "the model is unsure about confirms the first one, and consistent masks hide that.",
        "b": "Independent masks make every BALD score larger, and BatchBALD adds up the "
        "candidates' BALD scores, so the copies, whose scores are high, rise to the top.",
        "c": "The copies carry extra pixel noise (std 0.1), which makes the sampled networks "
        "disagree about them more, so under independent masks their scores rise above those of "
        "the other candidates.",
        "d": "Each point met its own K networks, so the predictions for a digit and its copy are "
        "no longer correlated, and the joint entropy cannot see that the copy's label is "
        "redundant.",
    },
    correct="d",
    hints={
        "a": "With consistent masks the copies sit below the best candidates in every "
        "repetition. What would a second label of the same digit tell about w?",
        "b": "Compare the two BALD panels (top row): they look alike. And BatchBALD does not add "
        "BALD scores; it scores the batch jointly.",
        "c": "The pool, noise included, is the same in both columns; only the masks differ.",
        "d": "BatchBALD sees redundancy only through the product prod_i p(y_i|x_i, w_k) under "
        "the same w_k. With unrelated masks the index k pairs random networks, the correlation "
        "in the scatter plot vanishes, and a copy looks like a brand-new digit.",
    },
)


QUESTIONS["07-unbalanced-pool"] = Question(
    prompt=(
        "In section 1 of notebook 07 (default run), BALD and BatchBALD gave the rare digits a "
        "clearly larger share of their acquired points than those digits have in the pool, while "
        "random acquisition followed the pool. Why?"
    ),
    options={
        "a": "Both acquisition functions re-weight each candidate's score by how rare its "
        "predicted class is among the labelled points, so that the training set they build "
        "becomes balanced over the ten digit classes of the pool.",
        "b": "Their scores measure what a point's label would tell about the model parameters; "
        "the model is most unsure about digits it has seen little of, and the score ignores how "
        "many pool points resemble the candidate (the density p(x)).",
        "c": "It is chance: with only 40 acquired points per method the class shares are noisy, "
        "and repeating random acquisition with other seeds would show the same over-sampling of "
        "the rare digits on average as BALD and BatchBALD did in this run.",
        "d": "BatchBALD's joint score counts how often each class occurs among the pool points and "
        "prefers the rare ones, and BALD shares that preference because it is BatchBALD with a "
        "batch of a single point (b = 1).",
    },
    correct="b",
    hints={
        "a": "Neither score looks at class counts -- of the labelled points or of the pool -- let "
        "alone at which classes are rare. What do the scores measure?",
        "b": "I(y; w | x) is a property of the single point x under the model; a digit the model "
        "is unsure about scores the same whether the pool holds one image like it or a thousand. "
        "The acquisition decides the class mix without consulting the data density.",
        "c": "Random acquisition's share of the rare digits stayed close to the pool's. Random "
        "follows the density on average by construction; the informed methods did not.",
        "d": "BatchBALD looks at the other points of the *batch* (to avoid redundant labels), "
        "not at the pool's class frequencies, which it never sees; nor does BALD.",
    },
)
